using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Bank.Benchmarks.DomainBenchmarks).Assembly).Run(args);
