package io.teller.registry.core;

/** The write commands registry nodes send to the leading node, and their JSON fields. */
final class WriteCommands {

  /** Each node's writer listens at this prefix followed by its node id. */
  static final String ADDRESS_PREFIX = "teller.registry.writer.";

  static final String OP = "op";
  static final String PUT_SERVICE = "put-service";
  static final String DELETE_SERVICE = "delete-service";
  static final String REGISTER = "register";
  static final String DEREGISTER = "deregister";
  static final String SET_STATUS = "set-status";
  static final String SET_WEIGHT = "set-weight";
  static final String REMOVE_IF = "remove-if";
  static final String MERGE_COPY = "merge-copy";

  /** In a write's reply: the highest revision it made (absent if it changed nothing). */
  static final String LAST_REVISION = "lastRevision";

  static final String EXPIRED = "expired";
  static final String DRAINED = "drained";
  static final String MEMBER_LEFT = "member-left";

  private WriteCommands() {}
}
