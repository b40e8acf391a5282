package io.ephemera.activity.reconciler;

import io.temporal.activity.ActivityInterface;

/**
 * What the reconciler workflow needs from the outside world besides the teardown activities it
 * reaps with. Type names are {@code Reconciler<Method>}: never rename a method.
 *
 * <p>Listings and the repair plan never throw for a failing source: they answer what failed in
 * their {@code errors}, so the workflow can tell "the cluster is down" from "nothing is there" and
 * delete nothing that depends on a failed source.
 */
@ActivityInterface(namePrefix = "Reconciler")
public interface ReconcilerActivities {

  /** {@code ephemera.reconciler.*} (called as a local activity). */
  ReconcilerSettings settings();

  /**
   * Pages through one kind of managed resource (heartbeating each page with its cursor), asks
   * Temporal whether each owner is running, and answers counts plus the orphan candidates.
   */
  Listing list(ListRequest request);

  /**
   * Lists open merge requests and pending jobs of every served project (configured ones, and those
   * of open Ephemera workflows) and answers what a missed webhook would have done.
   */
  RepairPlan planRepairs(RepairRequest request);

  /**
   * Makes one repair through the same entry points the webhooks use ({@code ReviewAppStarter},
   * {@code RunnerStarter}); answers what happened, for the report.
   */
  String repair(RepairAction action);

  /** Counts the pass in the metrics. */
  void recordPass(PassReport report);
}
