package io.ephemera.api.environments;

import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * Puts bearer authentication on the REST API and the codec endpoint only: {@code /webhooks/**}
 * carries GitLab's own token and {@code /actuator/**} is for probes.
 */
@Configuration(proxyBeanMethods = false)
class ApiWebConfiguration implements WebMvcConfigurer {
  /** The paths that need {@code Authorization: Bearer}; the OpenAPI document says the same. */
  static final String[] BEARER_PATHS = {"/api/**", "/codec/**"};

  private final ApiProperties properties;

  ApiWebConfiguration(ApiProperties properties) {
    this.properties = properties;
  }

  @Override
  public void addInterceptors(InterceptorRegistry registry) {
    registry.addInterceptor(new BearerTokenInterceptor(properties)).addPathPatterns(BEARER_PATHS);
  }
}
