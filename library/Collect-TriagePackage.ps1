<#
.SYNOPSIS
  Collects a first-look triage package from a Windows device into one zip archive.
.DESCRIPTION
  Run by MDE live response (RunScript); fetch the archive afterwards with GetFile. Read-only on the
  device apart from the output folder. Collects: running processes with command lines and hashes,
  TCP connections and listeners with owning processes, services, scheduled tasks, autorun registry
  keys, local users and administrators, DNS cache, recent Security/System events and the PowerShell
  operational log (last 24 hours), and a manifest of the archive's files with their SHA-256.
.PARAMETER OutputPath
  Where the zip archive is written. Default C:\ProgramData\Collector\triage.zip.
.EXAMPLE
  Collect-TriagePackage.ps1 -OutputPath C:\ProgramData\Collector\triage.zip
#>
param(
  [string]$OutputPath = 'C:\ProgramData\Collector\triage.zip'
)
$ErrorActionPreference = 'Continue'
$work = Join-Path $env:TEMP ("triage-" + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $work -Force | Out-Null
New-Item -ItemType Directory -Path (Split-Path -Parent $OutputPath) -Force | Out-Null

# Each section is written on its own, so one failing source never loses the others.
function Save-Section([string]$Name, [scriptblock]$Collect) {
  try {
    & $Collect | ConvertTo-Csv -NoTypeInformation | Set-Content -Path (Join-Path $work "$Name.csv") -Encoding UTF8
  } catch {
    "section $Name failed: $($_.Exception.Message)" | Add-Content -Path (Join-Path $work 'errors.txt')
  }
}

Save-Section 'processes' {
  Get-CimInstance Win32_Process | ForEach-Object {
    $hash = $null
    if ($_.ExecutablePath -and (Test-Path -LiteralPath $_.ExecutablePath)) {
      $hash = (Get-FileHash -LiteralPath $_.ExecutablePath -Algorithm SHA256 -ErrorAction SilentlyContinue).Hash
    }
    [pscustomobject]@{
      ProcessId = $_.ProcessId; ParentProcessId = $_.ParentProcessId; Name = $_.Name
      ExecutablePath = $_.ExecutablePath; CommandLine = $_.CommandLine; CreationDate = $_.CreationDate; SHA256 = $hash
    }
  }
}
Save-Section 'tcp' {
  Get-NetTCPConnection | Select-Object LocalAddress, LocalPort, RemoteAddress, RemotePort, State, OwningProcess, CreationTime
}
Save-Section 'services' { Get-CimInstance Win32_Service | Select-Object Name, DisplayName, State, StartMode, PathName, StartName }
Save-Section 'scheduled-tasks' {
  Get-ScheduledTask | ForEach-Object {
    [pscustomobject]@{
      TaskPath = $_.TaskPath; TaskName = $_.TaskName; State = $_.State; Author = $_.Author
      Actions = ($_.Actions | ForEach-Object { "$($_.Execute) $($_.Arguments)" }) -join ' | '
    }
  }
}
Save-Section 'autoruns' {
  $keys = 'HKLM:\Software\Microsoft\Windows\CurrentVersion\Run', 'HKLM:\Software\Microsoft\Windows\CurrentVersion\RunOnce',
    'HKLM:\Software\WOW6432Node\Microsoft\Windows\CurrentVersion\Run', 'HKCU:\Software\Microsoft\Windows\CurrentVersion\Run'
  foreach ($key in $keys) {
    $item = Get-ItemProperty -Path $key -ErrorAction SilentlyContinue
    if ($item) {
      $item.PSObject.Properties | Where-Object { $_.Name -notlike 'PS*' } |
        ForEach-Object { [pscustomobject]@{ Key = $key; Name = $_.Name; Value = $_.Value } }
    }
  }
}
Save-Section 'local-users' { Get-LocalUser | Select-Object Name, Enabled, LastLogon, PasswordLastSet, SID }
Save-Section 'local-administrators' { Get-LocalGroupMember -SID 'S-1-5-32-544' | Select-Object Name, ObjectClass, PrincipalSource, SID }
Save-Section 'dns-cache' { Get-DnsClientCache | Select-Object Entry, Name, Data, Type, TimeToLive }
$since = (Get-Date).AddHours(-24)
Save-Section 'events-security' {
  Get-WinEvent -FilterHashtable @{ LogName = 'Security'; Id = 4624, 4625, 4672, 4688, 4720, 4732, 1102; StartTime = $since } -MaxEvents 5000 |
    Select-Object TimeCreated, Id, ProviderName, Message
}
Save-Section 'events-system' {
  Get-WinEvent -FilterHashtable @{ LogName = 'System'; Id = 7045, 7036, 104; StartTime = $since } -MaxEvents 2000 | Select-Object TimeCreated, Id, ProviderName, Message
}
Save-Section 'events-powershell' {
  Get-WinEvent -FilterHashtable @{ LogName = 'Microsoft-Windows-PowerShell/Operational'; Id = 4104; StartTime = $since } -MaxEvents 2000 |
    Select-Object TimeCreated, Id, Message
}

Get-ChildItem -Path $work -File | ForEach-Object {
  [pscustomobject]@{ File = $_.Name; Size = $_.Length; SHA256 = (Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash }
} | ConvertTo-Csv -NoTypeInformation | Set-Content -Path (Join-Path $work 'manifest.csv') -Encoding UTF8

Compress-Archive -Path (Join-Path $work '*') -DestinationPath $OutputPath -Force
Remove-Item -Path $work -Recurse -Force
$archive = Get-Item -LiteralPath $OutputPath
"triage package: $($archive.FullName) ($($archive.Length) bytes, SHA-256 $((Get-FileHash -LiteralPath $OutputPath -Algorithm SHA256).Hash))"
