package io.teller.registry.api;

import io.teller.common.model.ValidationException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;
import io.vertx.openapi.contract.MediaType;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.Yaml;

/**
 * Validates request bodies against the schemas of the served {@code openapi.yaml}, so that the
 * published document and the checks are one and the same. The model's own checks run after it, for
 * what a schema cannot say (a route needs at least one matcher, the name in the body must match the
 * URL...).
 *
 * <p>vertx-openapi's {@code RequestValidator} reads the body from the request itself, which a
 * size-capped {@code BodyHandler} has already consumed; the body schema is applied here instead,
 * through the contract's own schema repository.
 */
public final class OpenApiValidation {

  private static final Pattern PROPERTY = Pattern.compile("['\"]([^'\"]+)['\"]");

  private final Map<String, Validator> bodyValidators;
  private final Map<String, PlainSchema> quickChecks;

  private OpenApiValidation(
      Map<String, Validator> bodyValidators, Map<String, PlainSchema> quickChecks) {
    this.bodyValidators = bodyValidators;
    this.quickChecks = quickChecks;
  }

  /** Loads the contract from the served document (the classpath resource {@code openapi.yaml}). */
  public static Future<OpenApiValidation> load(Vertx vertx, Buffer document) {
    JsonObject contractJson =
        new JsonObject(new Yaml().<Map<String, Object>>load(document.toString()));
    // vertx-openapi 5.0 refuses response media types it cannot validate (problem+json,
    // event-stream); only request bodies are validated here, so responses are left out of the
    // copy it reads. The document users download stays whole.
    JsonObject paths = contractJson.getJsonObject("paths");
    Map<String, PlainSchema> quickChecks = quickChecks(contractJson);
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String method : item.fieldNames()) {
        if (item.getValue(method) instanceof JsonObject operation
            && operation.containsKey("responses")) {
          operation.put(
              "responses",
              new JsonObject()
                  .put("default", new JsonObject().put("description", "see the served document")));
        }
      }
    }
    contractJson.getJsonObject("components").remove("responses");
    return OpenAPIContract.from(vertx, contractJson)
        .map(
            contract -> {
              Map<String, Validator> validators = new HashMap<>();
              for (Operation operation : contract.operations()) {
                if (operation.getRequestBody() != null) {
                  MediaType json = operation.getRequestBody().getContent().get("application/json");
                  validators.put(
                      operation.getOperationId(),
                      contract.getSchemaRepository().validator(json.getSchema()));
                }
              }
              return new OpenApiValidation(validators, quickChecks);
            });
  }

  /** The {@link PlainSchema} quick yes of each operation whose body schema allows one. */
  private static Map<String, PlainSchema> quickChecks(JsonObject contractJson) {
    Map<String, PlainSchema> checks = new HashMap<>();
    JsonObject components = contractJson.getJsonObject("components");
    JsonObject schemas = components == null ? null : components.getJsonObject("schemas");
    JsonObject paths = contractJson.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String method : item.fieldNames()) {
        if (item.getValue(method) instanceof JsonObject operation
            && operation.getValue("operationId") instanceof String id
            && operation.getValue("requestBody") instanceof JsonObject body
            && body.getValue("content") instanceof JsonObject content
            && content.getValue("application/json") instanceof JsonObject json
            && json.getValue("schema") instanceof JsonObject schema) {
          PlainSchema check = PlainSchema.of(schema, schemas);
          if (check != null) {
            checks.put(id, check);
          }
        }
      }
    }
    return checks;
  }

  /** Whether {@code operationId}'s quick check accepts {@code body} (tests). */
  boolean quicklyValid(String operationId, Object body) {
    PlainSchema quick = quickChecks.get(operationId);
    return quick != null && quick.certainlyValid(body);
  }

  /** Whether the full validator accepts {@code body} (tests). */
  boolean fullyValid(String operationId, Object body) {
    return Boolean.TRUE.equals(bodyValidators.get(operationId).validate(body).getValid());
  }

  /**
   * Throws a {@link ValidationException} naming the field at fault if {@code body} does not fit the
   * request schema of {@code operationId}.
   */
  public void validateBody(String operationId, Object body) {
    Validator validator = bodyValidators.get(operationId);
    if (validator == null) {
      throw new IllegalArgumentException("no request body in operation " + operationId);
    }
    PlainSchema quick = quickChecks.get(operationId);
    if (quick != null && quick.certainlyValid(body)) {
      return;
    }
    OutputUnit result = validator.validate(body);
    if (Boolean.TRUE.equals(result.getValid())) {
      return;
    }
    OutputUnit worst = deepest(result);
    String error = String.valueOf(worst.getError());
    String field = field(worst.getInstanceLocation());
    if (error.contains("required")) {
      Matcher property = PROPERTY.matcher(error);
      if (property.find()) {
        fail(join(field, property.group(1)), "is required");
      }
    }
    if (error.contains("false") || error.contains("not allowed") || error.contains("unevaluated")) {
      // additionalProperties: false points at the property itself
      fail(field.isEmpty() ? "body" : field, "unknown field");
    }
    fail(field.isEmpty() ? "body" : field, error);
  }

  private static void fail(String field, String detail) {
    throw new ValidationException(field, detail);
  }

  private static String join(String parent, String child) {
    return parent.isEmpty() ? child : parent + "." + child;
  }

  private static OutputUnit deepest(OutputUnit unit) {
    OutputUnit best = unit;
    List<OutputUnit> errors = unit.getErrors();
    if (errors != null) {
      for (OutputUnit error : errors) {
        OutputUnit candidate = deepest(error);
        if (depth(candidate) > depth(best) || best.getError() == null) {
          best = candidate;
        }
      }
    }
    return best;
  }

  private static int depth(OutputUnit unit) {
    String location = unit.getInstanceLocation();
    return location == null ? -1 : location.length();
  }

  /** {@code /routes/0/pathPrefix} → {@code routes[0].pathPrefix}. */
  static String field(String instanceLocation) {
    if (instanceLocation == null
        || instanceLocation.isEmpty()
        || instanceLocation.equals("/")
        || instanceLocation.equals("#")) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    for (String part : instanceLocation.replaceFirst("^#?/", "").split("/")) {
      String name = part.replace("~1", "/").replace("~0", "~");
      if (name.chars().allMatch(Character::isDigit) && !name.isEmpty()) {
        out.append('[').append(name).append(']');
      } else {
        if (out.length() > 0) {
          out.append('.');
        }
        out.append(name);
      }
    }
    return out.toString();
  }
}
