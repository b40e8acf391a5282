package io.ephemera.runner;

import java.time.Duration;

/**
 * Which runner a job gets, resolved from the routing table at intake and carried in the workflow
 * input (so history, not the current table, decides what a running workflow does).
 *
 * @param name the route's name, for people (status, logs, UI)
 * @param type Kubernetes pod or EC2 instance
 * @param cpu CPU request and limit of the pod (Kubernetes quantity), null for EC2
 * @param memory memory request and limit of the pod (Kubernetes quantity), null for EC2
 * @param instanceType EC2 instance type, null for Kubernetes
 * @param image container image of the runner pod, or null to use the configured default
 * @param ami EC2 AMI id or launch template name, null for Kubernetes
 * @param maxLifetime hard cap on the runner's life; teardown starts when it is reached
 */
public record RunnerRoute(
    String name,
    RunnerType type,
    String cpu,
    String memory,
    String instanceType,
    String image,
    String ami,
    Duration maxLifetime) {}
