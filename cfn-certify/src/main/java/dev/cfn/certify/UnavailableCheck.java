package dev.cfn.certify;

/**
 * A check whose subject is not built yet. It reports NOT AVAILABLE, which the level counts as
 * failed; nothing is skipped silently.
 */
final class UnavailableCheck implements Check {
  private final CheckId id;
  private final String missing;

  UnavailableCheck(CheckId id, String missing) {
    this.id = id;
    this.missing = missing;
  }

  @Override
  public CheckId id() {
    return id;
  }

  @Override
  public String method(Context ctx) {
    return "not run";
  }

  @Override
  public CheckResult run(Context ctx) {
    return CheckResult.notAvailable(id, ctx.target(id), "NOT AVAILABLE: " + missing);
  }
}
