package io.ephemera.activity.gitlab;

/** A job as GitLab reports it: status ({@code pending}, {@code running}, ...) and its runner. */
public record JobState(long jobId, String status, Long runnerId) {}
