package io.ephemera.activity.compute;

import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ssm.SsmClient;

/**
 * Builds the EC2 and SSM clients {@link Ec2Runners} needs from {@link Ec2RunnerProperties}: Apache
 * 5 HTTP client, region and endpoint override from configuration, the SDK's standard retries capped
 * at {@code max-api-attempts}. Credentials are the caller's choice: the SDK's default chain in
 * production ({@code DefaultCredentialsProvider.builder().build()}: environment, web identity/IRSA,
 * EKS pod identity, instance profile), static dummy ones for the sandbox.
 */
public final class Ec2RunnerClients {
  /**
   * Long enough for a slow region, short enough that a dead endpoint fails the attempt (and lets
   * Temporal retry it) well within an activity's start-to-close timeout.
   */
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

  private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(30);

  private Ec2RunnerClients() {}

  public static Ec2Client ec2(Ec2RunnerProperties props, AwsCredentialsProvider credentials) {
    var builder =
        Ec2Client.builder()
            .httpClient(httpClient())
            .credentialsProvider(credentials)
            .overrideConfiguration(overrides(props));
    if (props.region() != null) {
      builder.region(Region.of(props.region()));
    }
    if (props.endpointOverride() != null) {
      builder.endpointOverride(props.endpointOverride());
    }
    return builder.build();
  }

  public static SsmClient ssm(Ec2RunnerProperties props, AwsCredentialsProvider credentials) {
    var builder =
        SsmClient.builder()
            .httpClient(httpClient())
            .credentialsProvider(credentials)
            .overrideConfiguration(overrides(props));
    if (props.region() != null) {
      builder.region(Region.of(props.region()));
    }
    if (props.endpointOverride() != null) {
      builder.endpointOverride(props.endpointOverride());
    }
    return builder.build();
  }

  /** One HTTP client per SDK client, closed with it. */
  private static SdkHttpClient httpClient() {
    return Apache5HttpClient.builder()
        .connectionTimeout(CONNECT_TIMEOUT)
        .socketTimeout(SOCKET_TIMEOUT)
        .build();
  }

  private static ClientOverrideConfiguration overrides(Ec2RunnerProperties props) {
    return ClientOverrideConfiguration.builder()
        .retryStrategy(
            AwsRetryStrategy.standardRetryStrategy().toBuilder()
                .maxAttempts(props.maxApiAttempts())
                .build())
        .build();
  }
}
