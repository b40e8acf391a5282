package io.ephemera.worker.config;

import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

class OnRoleCondition implements Condition {
  @Override
  public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
    var attrs = metadata.getAnnotationAttributes(ConditionalOnRole.class.getName());
    String role = attrs == null ? null : (String) attrs.get("value");
    return role != null && Roles.from(context.getEnvironment()).contains(role);
  }
}
