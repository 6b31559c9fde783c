# Checks on the built binaries themselves.
CHECK_SUITES += tests/symbol-clash.sh
export DEPS_RELEASE
