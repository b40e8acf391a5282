package io.ephemera.api;

import io.ephemera.api.environments.ApiProperties;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Bounds how long a request body may take to arrive ({@code ephemera.api.body-timeout}, every
 * request) and how large a REST API body may be ({@code ephemera.api.max-body}, {@code /api/**};
 * the webhook applies its own {@code ephemera.gitlab.max-payload}).
 *
 * <p>Tomcat's connection timeout bounds only each pause between bytes, so a client sending a byte
 * every few seconds could keep a request open for as long as it likes; and Spring reads a JSON body
 * of any size before a controller sees it. Both limits are enforced on the body stream, so the
 * request fails at its next read: the webhook answers that like any unreadable body, and {@code
 * ProblemHandler} turns the REST API's {@link BodyTimeoutException} into a 400 and {@link
 * BodyTooLargeException} into a 413. A read already waiting is still bounded by the connection
 * timeout. A REST API request declaring a wildcard Content-Type ({@code *}{@code /*}) is answered
 * 415 before Spring tries to read it.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class RequestBodyGuard extends OncePerRequestFilter {
  private final Duration timeout;
  private final long maxApiBody;

  RequestBodyGuard(ApiProperties properties) {
    this.timeout = properties.bodyTimeout();
    this.maxApiBody = properties.maxBody().toBytes();
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    boolean api = request.getRequestURI().startsWith("/api/");
    if (api && !usableContentType(request.getHeader(HttpHeaders.CONTENT_TYPE))) {
      // Spring refuses to read a body declared as "*/*" or "text/*" with an exception of its own
      // (a 500); answered here, through the error page, as the 415 it is.
      response.sendError(HttpServletResponse.SC_UNSUPPORTED_MEDIA_TYPE);
      return;
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    long limit = api ? maxApiBody : Long.MAX_VALUE;
    chain.doFilter(new Guarded(request, deadline, limit), response);
  }

  /** Absent, or a concrete media type; malformed types are left to Spring, which answers 415. */
  static boolean usableContentType(String header) {
    if (header == null || header.isBlank()) {
      return true;
    }
    try {
      MediaType type = MediaType.parseMediaType(header);
      return !type.isWildcardType() && !type.isWildcardSubtype();
    } catch (InvalidMediaTypeException e) {
      return true;
    }
  }

  /** A body that did not arrive within {@code ephemera.api.body-timeout}. */
  public static final class BodyTimeoutException extends IOException {
    BodyTimeoutException(String message) {
      super(message);
    }
  }

  /** A REST API body over {@code ephemera.api.max-body}. */
  public static final class BodyTooLargeException extends IOException {
    private final long limit;

    BodyTooLargeException(long limit) {
      super("The request body is larger than the limit of " + limit + " bytes.");
      this.limit = limit;
    }

    public long limit() {
      return limit;
    }
  }

  private final class Guarded extends HttpServletRequestWrapper {
    private final long deadline;
    private final long limit;
    private ServletInputStream stream;

    Guarded(HttpServletRequest request, long deadline, long limit) {
      super(request);
      this.deadline = deadline;
      this.limit = limit;
    }

    @Override
    public ServletInputStream getInputStream() throws IOException {
      if (stream == null) {
        stream = new GuardedStream(super.getInputStream(), deadline, limit, getContentLengthLong());
      }
      return stream;
    }
  }

  private final class GuardedStream extends ServletInputStream {
    private final ServletInputStream in;
    private final long deadline;
    private final long limit;
    private final long declared;
    private long read;

    GuardedStream(ServletInputStream in, long deadline, long limit, long declared) {
      this.in = in;
      this.deadline = deadline;
      this.limit = limit;
      this.declared = declared;
    }

    /** Before a read: refuses once past the deadline, or when the body is known to be too big. */
    private void check() throws IOException {
      if (declared > limit || read > limit) {
        throw new BodyTooLargeException(limit);
      }
      if (System.nanoTime() - deadline > 0) {
        throw new BodyTimeoutException(
            "The request body did not arrive within " + timeout.toSeconds() + " s.");
      }
    }

    private int counted(int n) throws IOException {
      if (n > 0) {
        read += n;
        if (read > limit) {
          throw new BodyTooLargeException(limit);
        }
      }
      return n;
    }

    @Override
    public int read() throws IOException {
      check();
      int b = in.read();
      counted(b < 0 ? -1 : 1);
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      check();
      return counted(in.read(b, off, len));
    }

    @Override
    public int readLine(byte[] b, int off, int len) throws IOException {
      check();
      return counted(in.readLine(b, off, len));
    }

    @Override
    public int available() throws IOException {
      return in.available();
    }

    @Override
    public void close() throws IOException {
      in.close();
    }

    @Override
    public boolean isFinished() {
      return in.isFinished();
    }

    @Override
    public boolean isReady() {
      return in.isReady();
    }

    @Override
    public void setReadListener(ReadListener listener) {
      in.setReadListener(listener);
    }
  }
}
