# Sourced by ./mvnw and ./cfn (POSIX sh): makes JAVA_HOME a JDK that can build and run cfn.
#
# cfn needs JDK 25 or newer (the current LTS; see "Why Java 25" in the README). When $JAVA_HOME
# is unset or older, the usual install locations are searched and the newest JDK >= 25 found is
# used, so `./mvnw -B verify` works as written on a machine whose default `java` is older.
# When none exists, one line says what to install, and the caller exits 1.

CFN_JAVA_MIN=25

cfn_java_major() {
  "$1" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}' | awk -F. '{ if ($1 == "1") print $2; else print $1 }'
}

# cfn_select_jdk: exports JAVA_HOME (a JDK >= $CFN_JAVA_MIN with javac) or prints why not and returns 1.
cfn_select_jdk() {
  if [ -n "${JAVA_HOME-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    _cfn_m="$(cfn_java_major "$JAVA_HOME/bin/java" || true)"
    if [ -n "$_cfn_m" ] && [ "$_cfn_m" -ge "$CFN_JAVA_MIN" ] 2>/dev/null; then
      export JAVA_HOME
      return 0
    fi
  fi
  _cfn_restore_f=""
  case $- in *f*) _cfn_restore_f=1; set +f ;; esac
  _cfn_best=""
  _cfn_best_m=0
  _cfn_path_javac="$(command -v javac 2>/dev/null || true)"
  if [ -n "$_cfn_path_javac" ]; then
    _cfn_path_javac="$(readlink -f "$_cfn_path_javac" 2>/dev/null || echo "$_cfn_path_javac")"
    _cfn_path_home="$(dirname "$(dirname "$_cfn_path_javac")")"
  else
    _cfn_path_home=""
  fi
  for _cfn_d in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "${HOME:-/nonexistent}"/.sdkman/candidates/java/* \
    "${HOME:-/nonexistent}"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home $_cfn_path_home; do
    [ -x "$_cfn_d/bin/javac" ] && [ -x "$_cfn_d/bin/java" ] || continue
    _cfn_m="$(cfn_java_major "$_cfn_d/bin/java" || true)"
    if [ -n "$_cfn_m" ] && [ "$_cfn_m" -ge "$CFN_JAVA_MIN" ] 2>/dev/null && [ "$_cfn_m" -gt "$_cfn_best_m" ]; then
      _cfn_best="$_cfn_d"
      _cfn_best_m="$_cfn_m"
    fi
  done
  [ -n "$_cfn_restore_f" ] && set -f
  if [ -z "$_cfn_best" ]; then
    _cfn_have="$(command -v java >/dev/null 2>&1 && cfn_java_major "$(command -v java)" || echo none)"
    echo "cfn: needs a JDK $CFN_JAVA_MIN or newer, found none (JAVA_HOME=${JAVA_HOME:-unset}, java on the PATH: ${_cfn_have}; searched /usr/lib/jvm, /usr/java, /opt, ~/.sdkman, ~/.jdks) (fix: install JDK 25, e.g. Eclipse Temurin 25 from adoptium.net, or set JAVA_HOME to one)" >&2
    return 1
  fi
  if [ -n "${JAVA_HOME-}" ] && [ "${MVNW_VERBOSE-}" = true ]; then
    echo "cfn: JAVA_HOME=$JAVA_HOME is older than $CFN_JAVA_MIN; using $_cfn_best" >&2
  fi
  JAVA_HOME="$_cfn_best"
  export JAVA_HOME
  return 0
}
