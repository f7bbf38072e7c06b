#!/usr/bin/env bash
# Builds the Debian package of custody: the binary, a manual page for it and for every
# subcommand, and completion scripts for bash, zsh and fish. Needs cargo-deb
# (`cargo install cargo-deb --locked`). Prints the package's path.
#
#   tests/package.sh            # release build: the package to hand out
#   PROFILE=dev tests/package.sh  # the test build (tests/run uses it: no second build)
set -euo pipefail
cd "$(dirname "$0")/.."

profile=${PROFILE:-release}
case "$profile" in
  release) dir=release ;;
  dev) dir=debug ;;
  *) echo "tests/package.sh: PROFILE is release or dev, not $profile" >&2; exit 2 ;;
esac
cargo build --locked --profile "$profile" -p custody >&2
bin=target/$dir/custody

rm -rf target/assets
mkdir -p target/assets/bin target/assets/man target/assets/completions
# The binary without its debugging symbols.
strip -o target/assets/bin/custody "$bin"
"$bin" man --dir target/assets/man 2>/dev/null
"$bin" completions bash > target/assets/completions/custody.bash
"$bin" completions zsh > target/assets/completions/_custody
"$bin" completions fish > target/assets/completions/custody.fish

cargo deb --locked --no-build --no-strip -p custody --output target/debian/ >&2
ls -t target/debian/custody_*.deb | head -1
