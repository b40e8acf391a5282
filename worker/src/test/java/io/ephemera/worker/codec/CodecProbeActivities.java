package io.ephemera.worker.codec;

import io.temporal.activity.ActivityInterface;

@ActivityInterface(namePrefix = "CodecProbe")
public interface CodecProbeActivities {
  /** Fails its first attempt with a message quoting {@code marker}, then returns it. */
  String echo(String marker);

  /** Always fails, not retryably, with a message quoting {@code marker}. */
  void refuse(String marker);
}
