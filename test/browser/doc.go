// Package browser holds end-to-end tests of the live status pages — the
// agent's monitoring page and the AMPS server's admin page — loaded in a
// real headless Chromium driven over the DevTools protocol. They run an
// in-process server and agent, check that every running component shows on
// the page, then feed events and wait until the displayed counters move.
//
// The tests need /usr/bin/chromium and install nothing: without it they
// fail when the CI environment variable is set and are skipped otherwise.
// Set STATUS_SCREENSHOTS to a directory to keep the page screenshots.
package browser
