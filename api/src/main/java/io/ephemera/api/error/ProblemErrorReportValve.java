package io.ephemera.api.error;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;

/**
 * Tomcat's error report for requests it refuses before any servlet runs — a header with bytes
 * outside ISO-8859-1 rules, headers over {@code server.max-http-request-header-size}, an encoded
 * slash or NUL in the path — as {@code application/problem+json} instead of Tomcat's HTML page.
 * Errors that reach the application never get here: Spring MVC or {@link ProblemErrorController}
 * has written their body already. Installed by {@link TomcatProblemConfiguration}.
 *
 * <p>The body is built from constants only: nothing of the refused request is echoed.
 */
class ProblemErrorReportValve extends ErrorReportValve {

  @Override
  protected void report(Request request, Response response, Throwable throwable) {
    int status = response.getStatus();
    if (status < 400 || response.getContentWritten() > 0) {
      return;
    }
    AtomicBoolean ioAllowed = new AtomicBoolean(true);
    response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
    if (!ioAllowed.get()) {
      return; // the connection is gone or broken; nothing can be written
    }
    try {
      response.setContentType("application/problem+json");
      response.setCharacterEncoding("UTF-8");
      PrintWriter writer = response.getReporter();
      if (writer != null) {
        writer.write(body(status));
        response.finishResponse();
      }
    } catch (IOException | IllegalStateException e) {
      // The client went away while the report was written: nobody is left to tell.
    }
  }

  static String body(int status) {
    ProblemType type = ProblemType.forStatus(status);
    String detail =
        status >= 500
            ? "Unexpected error; the server log has details."
            : "The server could not accept this request as sent (a malformed request line, path"
                + " or header, or headers that are too large); it was not processed.";
    return "{\"type\":\""
        + type.uri()
        + "\",\"title\":\""
        + type.title()
        + "\",\"status\":"
        + status
        + ",\"detail\":\""
        + detail
        + "\"}";
  }
}
