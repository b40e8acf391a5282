package io.ephemera.worker.config;

import io.ephemera.common.WorkflowIds;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.MDC;

/**
 * Puts the workflow id, project and merge request (or job) of the running activity into the SLF4J
 * MDC for as long as the activity runs, so every line it logs carries them: as fields of the JSON
 * line under structured logging ({@code logging.structured.format.console}), which is how an
 * operator finds everything one review app's deploy logged. Ids only: nothing from the activity's
 * input, which is where a secret could be.
 */
public class ActivityLoggingInterceptor extends WorkerInterceptorBase {
  public static final String WORKFLOW_ID = "workflowId";
  public static final String ACTIVITY_TYPE = "activityType";
  public static final String PROJECT_ID = "projectId";
  public static final String MR_IID = "mrIid";
  public static final String JOB_ID = "jobId";

  @Override
  public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
    return new ActivityInboundCallsInterceptorBase(next) {
      private Map<String, String> fields = Map.of();

      @Override
      public void init(ActivityExecutionContext context) {
        fields = fields(context.getInfo());
        super.init(context);
      }

      @Override
      public ActivityOutput execute(ActivityInput input) {
        Map<String, String> previous = new LinkedHashMap<>();
        fields.forEach(
            (k, v) -> {
              previous.put(k, MDC.get(k));
              MDC.put(k, v);
            });
        try {
          return super.execute(input);
        } finally {
          // Activity threads are pooled: leave the MDC as it was found.
          previous.forEach(
              (k, v) -> {
                if (v == null) {
                  MDC.remove(k);
                } else {
                  MDC.put(k, v);
                }
              });
        }
      }
    };
  }

  static Map<String, String> fields(ActivityInfo info) {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put(WORKFLOW_ID, info.getWorkflowId());
    fields.put(ACTIVITY_TYPE, info.getActivityType());
    WorkflowIds.parse(info.getWorkflowId())
        .ifPresent(
            key -> {
              fields.put(PROJECT_ID, Long.toString(key.projectId()));
              if (key.mrIid() != null) {
                fields.put(MR_IID, Long.toString(key.mrIid()));
              }
              if (key.jobId() != null) {
                fields.put(JOB_ID, Long.toString(key.jobId()));
              }
            });
    return fields;
  }
}
