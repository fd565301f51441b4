#!/usr/bin/env pwsh
# Bank's build script. PowerShell 7 comes as a local dotnet tool:
#   dotnet tool restore
#   dotnet pwsh build.ps1 [restore|build|test|demo|bench|microbench|all] [-Configuration Release] [-Data DIR]
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('restore', 'build', 'test', 'demo', 'bench', 'microbench', 'all')]
    [string] $Target = 'all',
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug',
    # Data folder for the demo (default ./data).
    [string] $Data = 'data'
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
function Bench {
    # `bank bench` with its defaults (1,000 accounts x 100 deposits, embedded node, SQLite in a fresh folder), optimized.
    $folder = Join-Path ([System.IO.Path]::GetTempPath()) ("bank-bench-" + [guid]::NewGuid().ToString('N'))
    try { Invoke-Step 'bench' { dotnet run --project src/Nodes -c Release -- bench --data $folder } }
    finally { if (Test-Path $folder) { Remove-Item -Recurse -Force $folder } }
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
