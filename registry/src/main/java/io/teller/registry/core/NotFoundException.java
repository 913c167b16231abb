package io.teller.registry.core;

/** The registry does not know the service or instance asked for (HTTP 404). */
public final class NotFoundException extends RuntimeException {

  public NotFoundException(String message) {
    super(message, null, false, false);
  }
}
