# The tracker in a real browser (tests/browser): Debian's Chromium driven by
# Playwright (Python, from uv.lock; never `playwright install`: no browser
# download), against a single-topology stack of its own, brought up and taken
# down like test-integration's. Included by the Makefile.

.PHONY: test-browser
test-browser: venv
	@test -x /usr/bin/chromium || scripts/install-system-deps.sh
	@$(CLI) local down >/dev/null 2>&1 || true
	$(CLI) local up --topology single --detach
	$(PYTEST) tests/browser -q; status=$$?; \
	  $(CLI) local down; exit $$status
