package io.ephemera.api.error;

import org.apache.catalina.Container;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.Pipeline;
import org.apache.catalina.Valve;
import org.apache.catalina.startup.Tomcat;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.tomcat.TomcatContextCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Puts {@link ProblemErrorReportValve} in place of Tomcat's HTML error report on the host, so that
 * requests Tomcat refuses by itself are answered as problems too.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(Tomcat.class)
class TomcatProblemConfiguration {

  @Bean
  TomcatContextCustomizer problemErrorReports() {
    return context ->
        // At context start the host has added its error report valve (and Boot its own); both
        // are replaced here, whatever order the customizers ran in.
        context.addLifecycleListener(
            event -> {
              if (Lifecycle.BEFORE_START_EVENT.equals(event.getType())) {
                replaceErrorReportValves(context.getParent());
              }
            });
  }

  static void replaceErrorReportValves(Container host) {
    if (host == null) {
      return;
    }
    Pipeline pipeline = host.getPipeline();
    boolean installed = false;
    for (Valve valve : pipeline.getValves()) {
      if (valve instanceof ProblemErrorReportValve) {
        installed = true;
      } else if (valve instanceof ErrorReportValve) {
        pipeline.removeValve(valve);
      }
    }
    if (!installed) {
      pipeline.addValve(new ProblemErrorReportValve());
    }
  }
}
