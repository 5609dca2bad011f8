# The browser tracker (clients/js): included from the main Makefile; paths are
# relative to the project root. Node 20+ and npm; dependencies from the lock file.
#
#   make sdk         build dist/ and the bundle the API serves (src/clickstream/api/static/)
#   make sdk-test    formatting, type-check, the Node unit tests
#   make sdk-check   fail if the committed bundle is not what the build makes; print its size

SDK_DIR := clients/js
SDK_NPM ?= npm
SDK_DEPS := $(SDK_DIR)/node_modules/.ci-done

.PHONY: sdk sdk-test sdk-check

# esbuild's binary comes as an optional dependency (a registry package), so it
# needs no install script.
$(SDK_DEPS): $(SDK_DIR)/package.json $(SDK_DIR)/package-lock.json
	cd $(SDK_DIR) && $(SDK_NPM) ci --no-audit --no-fund --ignore-scripts
	@touch $@

sdk: $(SDK_DEPS)
	cd $(SDK_DIR) && node build.mjs

sdk-test: $(SDK_DEPS)
	cd $(SDK_DIR) && $(SDK_NPM) test

sdk-check: $(SDK_DEPS)
	cd $(SDK_DIR) && node build.mjs --check
