package io.ephemera.apitest;

import io.ephemera.api.ApiConfiguration;
import io.ephemera.api.codec.CodecEndpointSettings;
import io.ephemera.codec.AesGcmPayloadCodec;
import io.ephemera.codec.CodecKeyRing;
import io.ephemera.common.TaskQueues;
import io.temporal.client.WorkflowClient;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import java.util.List;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;

/**
 * The smallest application the api module runs in: what the worker module does when the api role is
 * on ({@code @Import(ApiConfiguration.class)} plus a {@link WorkflowClient}), with the client
 * talking to the SDK's in-process test server, on which fake review app and runner workflows run,
 * plus stand-ins for the runner routing table and the Jobs API, and the codec endpoint's settings.
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

  /**
   * What the worker's wiring provides from {@code ephemera.codec.*}: the codec endpoint's codec
   * (with {@link Fixtures#CODEC_KEY_ID}), its allowed UI origin and a 64 KB request limit; {@code
   * apitest.codec=disabled} gives the endpoint of a deployment with the codec off.
   */
  @Bean
  CodecEndpointSettings codecEndpointSettings(Environment env) {
    List<String> origins = List.of(Fixtures.CODEC_UI_ORIGIN);
    long limit = 64 * 1024;
    if ("disabled".equals(env.getProperty("apitest.codec"))) {
      return CodecEndpointSettings.disabled(origins, limit);
    }
    CodecKeyRing keys = CodecKeyRing.of(Fixtures.CODEC_KEY_ID, Fixtures.codecKeys());
    return CodecEndpointSettings.enabled(new AesGcmPayloadCodec(keys), origins, limit);
  }

  @Bean
  WorkflowClient workflowClient(TestWorkflowEnvironment temporal) {
    return temporal.getWorkflowClient();
  }
}
