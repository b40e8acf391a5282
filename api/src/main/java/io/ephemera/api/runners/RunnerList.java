package io.ephemera.api.runners;

import java.util.List;

/** {@code GET /api/v1/runners}: an object, not a bare array, so fields can be added later. */
record RunnerList(List<RunnerView> items) {}
