using Xunit.Abstractions;
using Xunit.Sdk;

namespace Bank.Nodes.Tests;

/// <summary>Marks a test that must run after the others of its class, e.g. one that stops the class's shared node.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RunsLastAttribute : Attribute;

/// <summary>Keeps xunit's order of a class's tests, except that those marked <see cref="RunsLastAttribute"/> come last.</summary>
public sealed class RunsLastOrderer : ITestCaseOrderer
{
    public const string TypeName = "Bank.Nodes.Tests.RunsLastOrderer";
    public const string AssemblyName = "Bank.Nodes.Tests";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.GetCustomAttributes(typeof(RunsLastAttribute).AssemblyQualifiedName).Any() ? 1 : 0);
}
