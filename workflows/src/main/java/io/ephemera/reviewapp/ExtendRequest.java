package io.ephemera.reviewapp;

/**
 * The {@code extend} update: keep the environment for at least {@code duration} (ISO-8601) from
 * now. An auto-stop time already later than that is kept.
 */
public record ExtendRequest(String duration) {}
