#!/usr/bin/env bash
# Installs the Bicep CLI for `npm run infra:check` from NuGet: the package Azure.Bicep.CommandLine.<rid>
# holds the self-contained `bicep` executable under tools/. A throwaway project that only downloads the
# package (<PackageDownload>) lets `dotnet restore` fetch it into the NuGet packages folder, where
# scripts/infraCheck.mjs looks for it. Needs the .NET SDK and a NuGet feed; no Azure CLI.
# Usage: scripts/install-bicep.sh [version]   (default below, or $BICEP_VERSION)
set -euo pipefail

version="${1:-${BICEP_VERSION:-0.49.2}}"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) rid=linux-x64 ;;
  Linux-aarch64 | Linux-arm64) rid=linux-arm64 ;;
  Darwin-x86_64) rid=osx-x64 ;;
  Darwin-arm64) rid=osx-arm64 ;;
  *) echo "install-bicep: no Bicep CLI package for $(uname -s) $(uname -m); install it with 'az bicep install' instead" >&2; exit 1 ;;
esac
package="Azure.Bicep.CommandLine.${rid}"
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
bicep="${packages}/$(echo "$package" | tr '[:upper:]' '[:lower:]')/${version}/tools/bicep"

if [ ! -f "$bicep" ]; then
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "install-bicep: the .NET SDK (dotnet) is needed to download ${package} from NuGet" >&2
    exit 1
  fi
  sdk_major="$(dotnet --version | cut -d. -f1)"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  cat >"$work/bicep-download.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net${sdk_major}.0</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="${package}" Version="[${version}]" />
  </ItemGroup>
</Project>
PROJECT
  dotnet restore "$work/bicep-download.csproj" --nologo --verbosity quiet
fi

if [ ! -f "$bicep" ]; then
  echo "install-bicep: ${package} ${version} restored, but ${bicep} is missing (did the package layout change?)" >&2
  exit 1
fi
chmod u+x "$bicep"
"$bicep" --version
echo "bicep: $bicep"
