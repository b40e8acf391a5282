package io.ephemera.api.environments;

import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * Puts bearer authentication on the REST API only: {@code /webhooks/**} carries GitLab's own token
 * and {@code /actuator/**} is for probes.
 */
@Configuration(proxyBeanMethods = false)
class ApiWebConfiguration implements WebMvcConfigurer {
  private final ApiProperties properties;

  ApiWebConfiguration(ApiProperties properties) {
    this.properties = properties;
  }

  @Override
  public void addInterceptors(InterceptorRegistry registry) {
    registry.addInterceptor(new BearerTokenInterceptor(properties)).addPathPatterns("/api/**");
  }
}
