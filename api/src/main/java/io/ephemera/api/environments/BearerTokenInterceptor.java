package io.ephemera.api.environments;

import io.ephemera.api.TokenMatcher;
import io.ephemera.api.error.ApiException;
import io.ephemera.api.error.ProblemType;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpHeaders;
import org.springframework.web.cors.PreFlightRequestHandler;
import org.springframework.web.servlet.HandlerInterceptor;

/**
 * Guards {@code /api/**} and {@code /codec/**} with {@code Authorization: Bearer <token>} (RFC
 * 6750). A refusal is thrown as an {@link ApiException}, so it reaches the client as problem+json
 * like every other error.
 *
 * <p>A CORS preflight passes: browsers never send credentials on one, Spring's CORS check (which
 * runs first) has already accepted or refused its origin, and it reaches no controller.
 */
class BearerTokenInterceptor implements HandlerInterceptor {
  private static final String SCHEME = "Bearer ";

  private final TokenMatcher tokens;

  BearerTokenInterceptor(ApiProperties properties) {
    this.tokens = TokenMatcher.of(properties.tokens());
  }

  @Override
  public boolean preHandle(
      HttpServletRequest request, HttpServletResponse response, Object handler) {
    if (handler instanceof PreFlightRequestHandler) {
      return true;
    }
    if (tokens.isEmpty()) {
      throw unauthorized(
          "No API token is configured (ephemera.api.tokens), so every request is refused.");
    }
    String token = bearerToken(request.getHeader(HttpHeaders.AUTHORIZATION));
    if (token == null) {
      throw unauthorized("An 'Authorization: Bearer <token>' header is required.");
    }
    if (!tokens.matches(token)) {
      throw unauthorized("The bearer token is not valid.");
    }
    return true;
  }

  /** The token of a Bearer credential; the scheme name is case-insensitive (RFC 9110). */
  static String bearerToken(String authorization) {
    if (authorization == null
        || authorization.length() <= SCHEME.length()
        || !authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
      return null;
    }
    String token = authorization.substring(SCHEME.length()).strip();
    return token.isEmpty() ? null : token;
  }

  private static ApiException unauthorized(String detail) {
    return new ApiException(ProblemType.UNAUTHORIZED, detail)
        .withHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
  }
}
