package io.ephemera.apitest;

import io.ephemera.api.ApiConfiguration;
import io.ephemera.common.TaskQueues;
import io.temporal.client.WorkflowClient;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;

/**
 * The smallest application the api module runs in: what the worker module does when the api role is
 * on ({@code @Import(ApiConfiguration.class)} plus a {@link WorkflowClient}), with the client
 * talking to the SDK's in-process test server, on which fake review app and runner workflows run,
 * plus stand-ins for the runner routing table and the Jobs API.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import(ApiConfiguration.class)
public class ApiTestApplication {

  @Bean(destroyMethod = "close")
  TestWorkflowEnvironment temporal() {
    // Real time: the REST API reports wall-clock instants (auto-stop), and nothing here waits on
    // a timer that skipping would shorten.
    TestWorkflowEnvironment env =
        TestWorkflowEnvironment.newInstance(
            TestEnvironmentOptions.newBuilder().setUseTimeskipping(false).build());
    env.newWorker(TaskQueues.REVIEW_APPS)
        .registerWorkflowImplementationTypes(FakeReviewAppWorkflow.class);
    env.newWorker(TaskQueues.RUNNERS).registerWorkflowImplementationTypes(FakeRunnerWorkflow.class);
    env.newWorker(TaskQueues.RECONCILER)
        .registerWorkflowImplementationTypes(FakeReconcilerWorkflow.class);
    env.start();
    return env;
  }

  /** What the worker's wiring provides from {@code activities}: the routing table, the Jobs API. */
  @Bean
  FakeRouting routing() {
    return new FakeRouting();
  }

  @Bean
  WorkflowClient workflowClient(TestWorkflowEnvironment temporal) {
    return temporal.getWorkflowClient();
  }
}
