package io.ephemera.activity.credentials;

import java.util.List;

/** Where the issued values were written, and their leases. */
public record IssuedCredentials(String secretNamespace, String secretName, List<Lease> leases) {
  public IssuedCredentials {
    leases = leases == null ? List.of() : List.copyOf(leases);
  }
}
