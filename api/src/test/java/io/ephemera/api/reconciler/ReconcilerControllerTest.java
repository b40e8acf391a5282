package io.ephemera.api.reconciler;

import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import io.ephemera.apitest.ApiTestApplication;
import io.ephemera.apitest.FakeReconcilerWorkflow;
import io.ephemera.common.TaskQueues;
import io.ephemera.reconciler.ReconcilerRequest;
import io.ephemera.reconciler.ReconcilerWorkflow;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webmvc.test.autoconfigure.AutoConfigureMockMvc;
import org.springframework.test.web.servlet.MockMvc;

/** {@code GET /api/v1/reconciler} against the Temporal test server and a fake reconciler. */
@SpringBootTest(
    classes = ApiTestApplication.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureMockMvc
class ReconcilerControllerTest {
  static final String API_TOKEN = "test-api-token";
  static final String PROBLEMS = "https://ephemera.io/problems/";

  @Autowired MockMvc mvc;
  @Autowired WorkflowClient client;

  @Test
  void showsTheLastPassWhileRunningAndAProblemOtherwise() throws Exception {
    mvc.perform(get("/api/v1/reconciler").header("Authorization", "Bearer " + API_TOKEN))
        .andExpect(status().isServiceUnavailable())
        .andExpect(content().contentType("application/problem+json"))
        .andExpect(header().string("Retry-After", "60"))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "reconciler-not-running"));

    ReconcilerWorkflow reconciler =
        client.newWorkflowStub(
            ReconcilerWorkflow.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(ReconcilerWorkflow.ID)
                .setTaskQueue(TaskQueues.RECONCILER)
                .build());
    WorkflowClient.start(reconciler::run, new ReconcilerRequest(3, FakeReconcilerWorkflow.PASS));
    try {
      mvc.perform(get("/api/v1/reconciler").header("Authorization", "Bearer " + API_TOKEN))
          .andExpect(status().isOk())
          .andExpect(jsonPath("$.passes").value(3))
          .andExpect(jsonPath("$.lastPass.pass").value(3))
          .andExpect(jsonPath("$.lastPass.dryRun").value(false))
          .andExpect(jsonPath("$.lastPass.durationMillis").value(2000))
          .andExpect(jsonPath("$.lastPass.kinds.namespace.reaped").value(1))
          .andExpect(jsonPath("$.lastPass.repairs.review-app-deploy").value(1))
          .andExpect(jsonPath("$.lastPass.errors.gitlab").exists())
          .andExpect(jsonPath("$.lastPass.notConfigured.lease").exists());
    } finally {
      reconciler.passNow();
      WorkflowStub.fromTyped(reconciler).getResult(Void.class);
    }

    // Closed is not running either.
    mvc.perform(get("/api/v1/reconciler").header("Authorization", "Bearer " + API_TOKEN))
        .andExpect(status().isServiceUnavailable())
        .andExpect(jsonPath("$.type").value(PROBLEMS + "reconciler-not-running"));
  }

  @Test
  void withoutABearerTokenItIs401() throws Exception {
    mvc.perform(get("/api/v1/reconciler"))
        .andExpect(status().isUnauthorized())
        .andExpect(jsonPath("$.type").value(PROBLEMS + "unauthorized"));
  }
}
