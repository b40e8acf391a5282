package io.ephemera.activity.reconciler;

import io.ephemera.common.Labels;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesRequest;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesResponse;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.Tag;

/**
 * EC2 runner instances, by the tag {@code app.kubernetes.io/managed-by=ephemera}, one {@code
 * DescribeInstances} page ({@code MaxResults}, {@code NextToken}) at a time. Instances already
 * shutting down or terminated are not listed: they are going by themselves. The owner is the tag
 * {@code ephemera.io/workflow-id} (verbatim), the age the launch time.
 */
public final class Ec2InstanceSource implements ManagedSource {
  /** DescribeInstances refuses a MaxResults outside 5..1000. */
  private static final int MIN_RESULTS = 5;

  private static final int MAX_RESULTS = 1000;

  private final Ec2Client ec2;

  public Ec2InstanceSource(Ec2Client ec2) {
    this.ec2 = ec2;
  }

  @Override
  public String kind() {
    return ResourceKinds.INSTANCE;
  }

  @Override
  public Page page(String cursor, int limit) {
    DescribeInstancesResponse response =
        ec2.describeInstances(
            DescribeInstancesRequest.builder()
                .filters(
                    Filter.builder()
                        .name("tag:" + Labels.MANAGED_BY)
                        .values(Labels.MANAGED_BY_VALUE)
                        .build(),
                    Filter.builder()
                        .name("instance-state-name")
                        .values("pending", "running", "stopping", "stopped")
                        .build())
                .maxResults(Math.max(MIN_RESULTS, Math.min(MAX_RESULTS, limit)))
                .nextToken(cursor)
                .build());
    List<Managed> items = new ArrayList<>();
    for (Reservation r : response.reservations()) {
      for (Instance i : r.instances()) {
        String owner = tag(i, Labels.WORKFLOW_ID);
        items.add(
            new Managed(i.instanceId(), owner, i.launchTime(), Ownership.projectOf(owner), null));
      }
    }
    String next = response.nextToken();
    return new Page(items, next == null || next.isBlank() ? null : next);
  }

  private static String tag(Instance i, String key) {
    for (Tag t : i.tags()) {
      if (key.equals(t.key())) {
        return t.value() == null || t.value().isBlank() ? null : t.value();
      }
    }
    return null;
  }
}
