package io.teller.backend.registration;

import io.teller.common.model.Instance;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one instance registered for as long as it runs: registers, heartbeats every third of its
 * TTL, registers again when the registry has forgotten it, and deregisters (with drain) on stop.
 *
 * <p>While the registry cannot be reached it retries with exponential backoff from {@value
 * #MIN_BACKOFF_MS} ms to {@value #MAX_BACKOFF_MS} ms, and says so in one line when it loses the
 * registry and one when it is back. Create, start and stop it on one Vert.x context (a verticle's):
 * its state is confined to that context.
 */
public final class SelfRegistration {

  /** The first retry's delay; each further one doubles it. */
  public static final long MIN_BACKOFF_MS = 250;

  /** The longest delay between two retries. */
  public static final long MAX_BACKOFF_MS = 5_000;

  /** On stop, how long to wait for a call already on its way and for the deregistration. */
  private static final long STOP_WAIT_MS = 3_000;

  private static final Logger LOG = LoggerFactory.getLogger("teller.backend");

  private final Vertx vertx;
  private final RegistryLink link;
  private final String service;
  private final Instance.Registration registration;
  private final String id;
  private final long heartbeatMs;

  private boolean registered;
  private boolean stopped;
  private long lostSince = -1;
  private String lastRefusal;
  private long backoffMs = MIN_BACKOFF_MS;
  private long timer = -1;
  private Future<?> pending = Future.succeededFuture();

  /**
   * @param registration the address and options; its {@code ttlSeconds} must be set
   */
  public SelfRegistration(
      Vertx vertx, RegistryLink link, String service, Instance.Registration registration) {
    if (registration.ttlSeconds() == null) {
      throw new IllegalArgumentException("a self-registration needs a TTL");
    }
    this.vertx = vertx;
    this.link = link;
    this.service = service;
    this.registration = registration;
    // The registry derives the id from service, host and port: known before it answers.
    this.id = Instance.idFor(service, registration.host(), registration.port());
    this.heartbeatMs = Math.max(1, registration.ttlSeconds() * 1000L / 3);
  }

  /** The instance's id in the registry. */
  public String id() {
    return id;
  }

  /**
   * Makes the first attempt; the future completes when it is answered, whatever the answer (a
   * failed attempt is retried in the background, so that a backend starts without a registry).
   */
  public Future<Void> start() {
    return register();
  }

  /**
   * Stops heartbeating and deregisters with drain. Never fails: a registry that cannot be told
   * drops the instance when its TTL runs out (or, over the event bus, when this member leaves).
   */
  public Future<Void> stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    // A call on its way lands first, so that a registration cannot arrive after the deregistration.
    return pending
        .<Void>transform(done -> Future.succeededFuture())
        .timeout(STOP_WAIT_MS, TimeUnit.MILLISECONDS)
        .transform(waited -> registered ? deregister() : Future.<Void>succeededFuture())
        .eventually(link::close);
  }

  private Future<Void> deregister() {
    return link.deregister(service, id)
        .timeout(STOP_WAIT_MS, TimeUnit.MILLISECONDS)
        .<Void>transform(
            done -> {
              registered = false;
              if (done.succeeded()) {
                LOG.info(
                    "deregistered {} from service {} ({})",
                    id,
                    service,
                    done.result().getString("status", "removed"));
              } else if (RegistryLinkException.is(
                  done.cause(), RegistryLinkException.Kind.NOT_FOUND)) {
                LOG.info(
                    "deregistered {} from service {} (the registry had already dropped it)",
                    id,
                    service);
              } else {
                LOG.warn(
                    "could not deregister {} from service {}: {}; its TTL will remove it",
                    id,
                    service,
                    done.cause().getMessage());
              }
              return Future.succeededFuture();
            });
  }

  private Future<Void> register() {
    Future<JsonObject> call = link.register(service, registration);
    pending = call;
    return call.transform(
        done -> {
          if (done.succeeded()) {
            registered = true;
            reached();
            LOG.info(
                "registered as {} in service {} at {}:{}",
                done.result().getString("id", id),
                service,
                registration.host(),
                registration.port());
            schedule(heartbeatMs, this::heartbeat);
          } else {
            failed("registration", done.cause());
            schedule(nextBackoff(), this::register);
          }
          return Future.succeededFuture();
        });
  }

  private void heartbeat() {
    Future<JsonObject> call = link.heartbeat(service, id);
    pending = call;
    call.onComplete(
        done -> {
          if (done.succeeded()) {
            reached();
            schedule(heartbeatMs, this::heartbeat);
          } else if (RegistryLinkException.is(done.cause(), RegistryLinkException.Kind.NOT_FOUND)) {
            // All registry nodes restarted, or someone removed it: the backend owns its
            // registration.
            reached();
            registered = false;
            if (!stopped) {
              LOG.info("the registry does not know {} any more; registering again", id);
              register();
            }
          } else {
            failed("heartbeat", done.cause());
            schedule(nextBackoff(), this::heartbeat);
          }
        });
  }

  /** A call was answered: the registry is reachable again, the backoff starts over. */
  private void reached() {
    backoffMs = MIN_BACKOFF_MS;
    lastRefusal = null;
    if (lostSince >= 0) {
      LOG.info(
          "registry is back {} after {} ms",
          link.describe(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lostSince));
      lostSince = -1;
    }
  }

  private void failed(String what, Throwable cause) {
    if (RegistryLinkException.is(cause, RegistryLinkException.Kind.REFUSED)) {
      // A refusal repeats until the configuration is fixed: say it once, not on every retry.
      if (!cause.getMessage().equals(lastRefusal)) {
        LOG.error("the registry refused the {} of {}: {}", what, id, cause.getMessage());
        lastRefusal = cause.getMessage();
      }
      return;
    }
    if (lostSince < 0 && !stopped) {
      lostSince = System.nanoTime();
      LOG.warn(
          "lost the registry {} ({} failed: {}); retrying every {}-{} ms",
          link.describe(),
          what,
          cause.getMessage(),
          MIN_BACKOFF_MS,
          MAX_BACKOFF_MS);
    }
  }

  private long nextBackoff() {
    long delay = backoffMs;
    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    return delay;
  }

  private void schedule(long delayMs, Runnable action) {
    if (!stopped) {
      timer = vertx.setTimer(delayMs, t -> action.run());
    }
  }
}
