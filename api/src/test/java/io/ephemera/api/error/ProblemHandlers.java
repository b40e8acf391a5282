package io.ephemera.api.error;

/** Lets standalone MockMvc tests in other packages install the real, package-private advice. */
public final class ProblemHandlers {
  private ProblemHandlers() {}

  public static Object advice() {
    return new ProblemHandler();
  }
}
