package io.ephemera.worker.config;

import io.ephemera.common.EphemeraSearchAttributes;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.api.operatorservice.v1.AddSearchAttributesRequest;
import io.temporal.api.operatorservice.v1.ListSearchAttributesRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.OperatorServiceStubs;
import io.temporal.serviceclient.OperatorServiceStubsOptions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure Ephemera's custom search attributes exist before the worker polls: a workflow that
 * upserts an unknown attribute fails its workflow task over and over. Registers the missing ones
 * where the server allows it; where it does not (Temporal Cloud, or no operator permission), stops
 * start-up with the commands an operator runs once.
 */
public class SearchAttributeRegistrar {
  private static final Logger log = LoggerFactory.getLogger(SearchAttributeRegistrar.class);
  private final WorkflowClient client;

  public SearchAttributeRegistrar(WorkflowClient client) {
    this.client = client;
  }

  public void ensureRegistered() {
    String namespace = client.getOptions().getNamespace();
    OperatorServiceStubs operator =
        OperatorServiceStubs.newServiceStubs(
            OperatorServiceStubsOptions.newBuilder()
                .setChannel(client.getWorkflowServiceStubs().getRawChannel())
                .validateAndBuildWithDefaults());
    try {
      Map<String, IndexedValueType> missing = missing(operator, namespace);
      if (missing.isEmpty()) {
        return;
      }
      try {
        operator
            .blockingStub()
            .addSearchAttributes(
                AddSearchAttributesRequest.newBuilder()
                    .setNamespace(namespace)
                    .putAllSearchAttributes(missing)
                    .build());
        log.info("Registered search attributes {} in namespace {}", missing.keySet(), namespace);
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.ALREADY_EXISTS) {
          throw e;
        }
      }
    } catch (StatusRuntimeException e) {
      throw new IllegalStateException(
          "Cannot register Ephemera's search attributes in namespace "
              + namespace
              + " ("
              + e.getStatus().getCode()
              + "). Create them once, then restart:\n"
              + commands(namespace),
          e);
    } finally {
      operator.shutdown();
    }
  }

  /**
   * The attributes the namespace lacks. A server that cannot list them (the SDK's test server
   * implements only "add") is asked to add them all; "already exists" then means done.
   */
  private static Map<String, IndexedValueType> missing(
      OperatorServiceStubs operator, String namespace) {
    Map<String, IndexedValueType> existing;
    try {
      existing =
          operator
              .blockingStub()
              .listSearchAttributes(
                  ListSearchAttributesRequest.newBuilder().setNamespace(namespace).build())
              .getCustomAttributesMap();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.UNIMPLEMENTED) {
        throw e;
      }
      existing = Map.of();
    }
    Map<String, IndexedValueType> missing = new LinkedHashMap<>();
    for (Map.Entry<String, IndexedValueType> e : EphemeraSearchAttributes.ALL.entrySet()) {
      if (!existing.containsKey(e.getKey())) {
        missing.put(e.getKey(), e.getValue());
      }
    }
    return missing;
  }

  /** The Temporal CLI commands that create every attribute, for operators. */
  static String commands(String namespace) {
    return EphemeraSearchAttributes.ALL.entrySet().stream()
        .map(
            e ->
                "  temporal operator search-attribute create --namespace "
                    + namespace
                    + " --name "
                    + e.getKey()
                    + " --type "
                    + (e.getValue() == IndexedValueType.INDEXED_VALUE_TYPE_INT ? "Int" : "Keyword"))
        .collect(Collectors.joining("\n"));
  }
}
