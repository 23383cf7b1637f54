# Shared settings for the project scripts (sourced, not executed).
#   ROOT      repository root
#   PATH      + .tools/node_modules/.bin (wasm-opt from npm binaryen, see setup.sh)
#             + ~/.cargo/bin (trunk, wasm-bindgen)
# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts that source this
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
case ":$PATH:" in
  *":$ROOT/.tools/node_modules/.bin:"*) ;;
  *) PATH="$ROOT/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH" ;;
esac
export PATH
# trunk would otherwise ask GitHub for a newer release at every start
export TRUNK_SKIP_VERSION_CHECK=true

# pinned tool versions (Trunk.toml [tools] must agree); used by setup.sh
TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130    # = the wasm-bindgen crate pinned in Cargo.toml
BINARYEN_VERSION=132.0.0        # wasm-opt "version_132"
ESBUILD_VERSION=0.28.2          # minifies the release build's JS and CSS (scripts/shrink.mjs)

# network namespace for the end-to-end tests (only "lo" inside)
E2E_NETNS="${E2E_NETNS:-softphone-e2e}"
