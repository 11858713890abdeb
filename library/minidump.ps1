<#
.SYNOPSIS
  Writes a full memory dump of one process and zips it, for collection with GetFile.
.DESCRIPTION
  Run by MDE live response (RunScript) with the process name as the argument; the archive is written
  to C:\Windows\TEMP\<name>.dmp.zip (the path the memory-dump playbook fetches). Uses
  MiniDumpWriteDump from dbghelp.dll (https://learn.microsoft.com/windows/win32/api/minidumpapiset/nf-minidumpapiset-minidumpwritedump)
  with MiniDumpWithFullMemory. Dumps the first process of that name; prints its id and the archive's SHA-256.
.PARAMETER ProcessName
  The process name without .exe, e.g. OfficeClickToRun.
.EXAMPLE
  minidump.ps1 OfficeClickToRun
#>
param(
  [Parameter(Mandatory = $true, Position = 0)]
  [ValidatePattern('^[A-Za-z0-9._-]+$')]
  [string]$ProcessName
)
$ErrorActionPreference = 'Stop'
$process = Get-Process -Name $ProcessName | Select-Object -First 1
$dumpPath = Join-Path $env:windir "TEMP\$ProcessName.dmp"
$zipPath = "$dumpPath.zip"

Add-Type -TypeDefinition @'
using System;
using System.Runtime.InteropServices;
public static class CollectorMiniDump {
  [DllImport("dbghelp.dll", SetLastError = true)]
  public static extern bool MiniDumpWriteDump(IntPtr hProcess, uint processId, Microsoft.Win32.SafeHandles.SafeFileHandle hFile,
    uint dumpType, IntPtr exceptionParam, IntPtr userStreamParam, IntPtr callbackParam);
}
'@

$MiniDumpWithFullMemory = 2
$stream = [System.IO.File]::Create($dumpPath)
try {
  $ok = [CollectorMiniDump]::MiniDumpWriteDump($process.Handle, [uint32]$process.Id, $stream.SafeFileHandle, $MiniDumpWithFullMemory,
    [IntPtr]::Zero, [IntPtr]::Zero, [IntPtr]::Zero)
  if (-not $ok) { throw "MiniDumpWriteDump failed for process $($process.Id): error $([Runtime.InteropServices.Marshal]::GetLastWin32Error())" }
} finally {
  $stream.Dispose()
}
Compress-Archive -LiteralPath $dumpPath -DestinationPath $zipPath -Force
Remove-Item -LiteralPath $dumpPath -Force
"dumped $ProcessName (pid $($process.Id)) to $zipPath, SHA-256 $((Get-FileHash -LiteralPath $zipPath -Algorithm SHA256).Hash)"
