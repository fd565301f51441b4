#!/usr/bin/env pwsh
# Bank's build script. PowerShell 7 comes as a local dotnet tool:
#   dotnet tool restore
#   dotnet pwsh build.ps1 [restore|build|test|demo|bench|microbench|all] [-Configuration Release] [-Data DIR]
#   dotnet pwsh build.ps1 bench [-Rounds 3] [-Accounts 1000] [-Ops 100] [-Concurrency N] [-StateStore on|off]
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('restore', 'build', 'test', 'demo', 'bench', 'microbench', 'all')]
    [string] $Target = 'all',
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug',
    # Data folder for the demo (default ./data).
    [string] $Data = 'data',
    # bench: rounds of `bank bench` and the Orleans peer, alternated (default 3 each).
    [ValidateRange(1, 100)]
    [int] $Rounds = 3,
    # bench: the workload both run, with `bank bench`'s defaults (1,000 accounts x 100 deposits, one caller per account).
    [ValidateRange(1, 10000000)]
    [int] $Accounts = 1000,
    [ValidateRange(1, 10000000)]
    [int] $Ops = 100,
    [ValidateRange(0, 10000000)]
    [int] $Concurrency = 0,
    # bench: bank's state store (Orleans has none to feed); on is `bank bench`'s default.
    [ValidateSet('on', 'off')]
    [string] $StateStore = 'on'
)

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

function Invoke-Step([string] $Name, [scriptblock] $Command) {
    Write-Host "==> $Name" -ForegroundColor Cyan
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$Name failed with exit code $LASTEXITCODE" }
}

function Restore { Invoke-Step 'restore' { dotnet restore Akka.sln } }
function Build { Invoke-Step 'build' { dotnet build Akka.sln --no-restore -c $Configuration } }
function Test { Invoke-Step 'test' { dotnet test Akka.sln --no-build -c $Configuration } }
function Demo { Invoke-Step 'demo' { dotnet run --project src/Nodes -c $Configuration -- demo --data $Data } }
function Invoke-BenchRun([string] $System, [string[]] $Arguments) {
    # One run, its JSON result line from stdout (progress and warnings stay on stderr); a wrong balance fails the bench.
    $json = & dotnet @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$System failed with exit code $LASTEXITCODE" }
    $result = $json | Select-Object -Last 1 | ConvertFrom-Json
    Write-Host ("  {0,-8} {1,8:N0} deposits/s  p50 {2,6:N1} ms  p99 {3,7:N1} ms  {4,6:N0} bytes/deposit  GC {5}/{6}/{7}  verified={8}" -f `
            $System, $result.ops_per_s, $result.p50_ms, $result.p99_ms, $result.allocated_bytes_per_op, `
            $result.gc_gen0, $result.gc_gen1, $result.gc_gen2, $result.verified.ToString().ToLowerInvariant())
    return $result
}

function Get-Median([double[]] $Values) {
    $sorted = $Values | Sort-Object
    $middle = [int][math]::Floor($sorted.Count / 2)
    if ($sorted.Count % 2 -eq 1) { return $sorted[$middle] }
    return ($sorted[$middle - 1] + $sorted[$middle]) / 2
}

function Bench {
    # `bank bench` (embedded node, durable: SQLite in a fresh folder each run) and the Orleans peer (benchmarks/OrleansPeer:
    # an in-process silo, memory grain storage) on the same workload, both optimized, alternated round by round (who goes
    # first alternates too), then the ratio Bank/Orleans of deposits a second.
    Invoke-Step 'build (Release)' { dotnet build src/Nodes -c Release -v quiet -nologo }
    Invoke-Step 'build the Orleans peer (Release)' { dotnet build benchmarks/OrleansPeer -c Release -v quiet -nologo }
    $workload = @('--accounts', $Accounts, '--ops', $Ops)
    if ($Concurrency -gt 0) { $workload += @('--concurrency', $Concurrency) }
    $bank = Join-Path 'src/Nodes/bin/Release/net10.0' 'bank.dll'
    $peer = Join-Path 'benchmarks/OrleansPeer/bin/Release/net10.0' 'orleans-peer.dll'
    $callers = if ($Concurrency -gt 0) { $Concurrency } else { $Accounts }
    Write-Host "==> bench: $Accounts accounts x $Ops deposits, $callers callers, $Rounds rounds (bank: SQLite, state store $StateStore; Orleans: memory grain storage)" -ForegroundColor Cyan
    $ratios = @()
    $bankRates = @()
    $peerRates = @()
    for ($round = 1; $round -le $Rounds; $round++) {
        Write-Host "round $round of $Rounds"
        $order = if ($round % 2 -eq 1) { @('bank', 'orleans') } else { @('orleans', 'bank') }
        $rates = @{}
        foreach ($system in $order) {
            if ($system -eq 'bank') {
                $folder = Join-Path ([System.IO.Path]::GetTempPath()) ("bank-bench-" + [guid]::NewGuid().ToString('N'))
                try {
                    $result = Invoke-BenchRun 'bank' (@($bank, 'bench') + $workload + @('--state-store', $StateStore, '--data', $folder, '--json'))
                }
                finally { if (Test-Path $folder) { Remove-Item -Recurse -Force $folder } }
            }
            else {
                $result = Invoke-BenchRun 'orleans' (@($peer) + $workload + @('--json'))
            }
            $rates[$system] = [double] $result.ops_per_s
        }
        $bankRates += $rates['bank']
        $peerRates += $rates['orleans']
        $ratios += $rates['bank'] / $rates['orleans']
        Write-Host ("  ratio bank/orleans {0:N2}" -f ($rates['bank'] / $rates['orleans']))
    }
    $summary = ("bench: bank {0:N0} deposits/s (median of {1}, {2:N0}-{3:N0}), orleans {4:N0} deposits/s ({5:N0}-{6:N0}); " +
        "ratio bank/orleans {7:N2} (median of the rounds' ratios, {8:N2}-{9:N2})") -f `
        (Get-Median $bankRates), $Rounds, ($bankRates | Measure-Object -Minimum).Minimum, ($bankRates | Measure-Object -Maximum).Maximum, `
        (Get-Median $peerRates), ($peerRates | Measure-Object -Minimum).Minimum, ($peerRates | Measure-Object -Maximum).Maximum, `
        (Get-Median $ratios), ($ratios | Measure-Object -Minimum).Minimum, ($ratios | Measure-Object -Maximum).Maximum
    Write-Host $summary
}
function MicroBench {
    # BenchmarkDotNet needs an optimized build; it prints a table per benchmark class.
    Invoke-Step 'microbench' { dotnet run --project benchmarks/Benchmarks -c Release -- --filter '*' }
}

switch ($Target) {
    'restore' { Restore }
    'build' { Restore; Build }
    'test' { Restore; Build; Test }
    'demo' { Demo }
    'bench' { Bench }
    'microbench' { MicroBench }
    'all' { Restore; Build; Test; Demo }
}
