package io.ephemera.api.codec;

import io.ephemera.api.error.ProblemType;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.DefaultCorsProcessor;
import org.springframework.web.servlet.config.annotation.CorsRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;
import org.springframework.web.servlet.handler.AbstractHandlerMapping;
import tools.jackson.databind.json.JsonMapper;

/**
 * CORS for {@code /codec/**} only, so that a Temporal UI served from another origin can call the
 * codec from the operator's browser. Everything else under the API stays same-origin.
 *
 * <p>Preflights from an allowed origin are answered without a token (browsers never send one on a
 * preflight; {@code BearerTokenInterceptor} lets them through), and say which headers the real
 * request may carry. A preflight or request from any other origin is refused with {@code 403
 * origin-not-allowed}, as problem+json like every other error.
 */
@Configuration(proxyBeanMethods = false)
class CodecCorsConfiguration implements WebMvcConfigurer {
  static final String PATHS = "/codec/**";

  /** What the Temporal UI sends: its access token, JSON, and the namespace of the payloads. */
  static final List<String> ALLOWED_HEADERS =
      List.of(HttpHeaders.AUTHORIZATION, HttpHeaders.CONTENT_TYPE, CodecController.NAMESPACE);

  /** Preflight answers are cached by browsers this long (seconds), sparing a round trip. */
  private static final long MAX_AGE_SECONDS = 600;

  private final ObjectProvider<CodecEndpointSettings> settings;

  CodecCorsConfiguration(ObjectProvider<CodecEndpointSettings> settings) {
    this.settings = settings;
  }

  @Override
  public void addCorsMappings(CorsRegistry registry) {
    CodecEndpointSettings s = settings.getIfAvailable();
    List<String> origins = s == null ? List.of() : s.corsOrigins();
    registry
        .addMapping(PATHS)
        // An empty list allows no cross-origin caller at all: same-origin requests still work.
        .allowedOrigins(origins.toArray(String[]::new))
        .allowedMethods(HttpMethod.POST.name())
        .allowedHeaders(ALLOWED_HEADERS.toArray(String[]::new))
        // The UI may send cookies (its `includeCredentials` setting); with exact origins only,
        // never "*", this is safe.
        .allowCredentials(true)
        .maxAge(MAX_AGE_SECONDS);
  }

  /** Refusals as problem+json, on every handler mapping (an unknown path has its own). */
  @Bean
  static BeanPostProcessor problemCorsProcessor() {
    return new BeanPostProcessor() {
      @Override
      public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (bean instanceof AbstractHandlerMapping mapping) {
          mapping.setCorsProcessor(new ProblemCorsProcessor());
        }
        return bean;
      }
    };
  }

  /**
   * Spring's CORS checks, with the refusal written as problem+json. Written here, not thrown: a
   * preflight has no controller, so {@code ProblemHandler} would never see an exception from it.
   */
  static final class ProblemCorsProcessor extends DefaultCorsProcessor {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Override
    public boolean processRequest(
        CorsConfiguration config, HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      boolean allowed = super.processRequest(config, request, response);
      if (!allowed && !response.isCommitted()) {
        ProblemType type = ProblemType.ORIGIN_NOT_ALLOWED;
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("type", type.uri().toString());
        problem.put("title", type.title());
        problem.put("status", type.status().value());
        problem.put(
            "detail",
            "This origin may not call this path from a browser (ephemera.codec.cors-origins lists"
                + " the Temporal UI origins that may call /codec), or the request asked for a"
                + " method or header that is not allowed.");
        problem.put("instance", request.getRequestURI());
        response.setStatus(type.status().value());
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.getOutputStream().write(JSON.writeValueAsBytes(problem));
        response.flushBuffer();
      }
      return allowed;
    }

    /** Only the status: {@link #processRequest} writes the body, knowing the request. */
    @Override
    protected void rejectRequest(ServerHttpResponse response) {
      response.setStatusCode(HttpStatus.FORBIDDEN);
    }
  }
}
