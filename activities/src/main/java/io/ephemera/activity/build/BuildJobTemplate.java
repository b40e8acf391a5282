package io.ephemera.activity.build;

import io.fabric8.kubernetes.api.model.batch.v1.Job;

/**
 * What one builder puts into its Job: the only part that knows the build tool. Waiting, logs and
 * cleanup ({@link KanikoBuilder}) work on any Job that carries the labels of {@link BuildLabels}.
 */
interface BuildJobTemplate {

  /** The Job for a validated request. */
  Job job(BuildRequest request);

  /** The container whose log tells why a build failed. */
  String containerName();
}
