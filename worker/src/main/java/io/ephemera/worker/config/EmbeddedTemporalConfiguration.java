package io.ephemera.worker.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

/**
 * The local profile's in-JVM Temporal server on 127.0.0.1 (see {@link EmbeddedTemporalServer}).
 * Everything it holds is lost when the process stops.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = EphemeraEnvironmentPostProcessor.EMBEDDED, havingValue = "true")
class EmbeddedTemporalConfiguration {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedTemporalConfiguration.class);

  /**
   * The starter's service stubs must not be built before the server listens: the first RPC would
   * fail while the context is still starting.
   */
  @Bean
  static BeanFactoryPostProcessor embeddedTemporalBeforeStubs() {
    return beanFactory -> {
      if (beanFactory.containsBeanDefinition("temporalWorkflowServiceStubs")) {
        BeanDefinition stubs = beanFactory.getBeanDefinition("temporalWorkflowServiceStubs");
        stubs.setDependsOn(
            StringUtils.addStringToArray(stubs.getDependsOn(), "embeddedTemporalServer"));
      }
    };
  }

  @Bean(destroyMethod = "close")
  EmbeddedTemporalServer embeddedTemporalServer(Environment env) {
    int port =
        env.getRequiredProperty(EphemeraEnvironmentPostProcessor.EMBEDDED_PORT, Integer.class);
    EmbeddedTemporalServer server = EmbeddedTemporalServer.start(port);
    log.warn(
        "Temporal: in-memory server on 127.0.0.1:{} - all workflows are lost on restart. Point"
            + " Ephemera at a real cluster with ephemera.temporal.target=<host:port>.",
        port);
    return server;
  }
}
