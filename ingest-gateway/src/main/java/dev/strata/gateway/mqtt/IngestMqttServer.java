package dev.strata.gateway.mqtt;

import dev.strata.gateway.auth.Principal;
import dev.strata.gateway.auth.TokenRateLimiter;
import dev.strata.gateway.auth.TokenStore;
import dev.strata.gateway.kafka.EventAppender;
import dev.strata.gateway.kafka.InFlightLimiter;
import dev.strata.gateway.metrics.GatewayMetrics;
import dev.strata.gateway.validation.EventParser;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttProperties.IntegerProperty;
import io.netty.handler.codec.mqtt.MqttProperties.MqttPropertyType;
import io.netty.handler.codec.mqtt.MqttProperties.StringProperty;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mqtt.MqttAuth;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.mqtt.MqttServer;
import io.vertx.mqtt.MqttServerOptions;
import io.vertx.mqtt.messages.codes.MqttDisconnectReasonCode;
import io.vertx.mqtt.messages.codes.MqttSubAckReasonCode;
import java.util.Collections;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MQTT 3.1.1 and 5 server: devices publish JSON events to {@code strata/events/{source}}.
 *
 * <p>A QoS 1 publish is acknowledged only after Kafka has acknowledged the event; many publishes
 * of one client are in flight at once (up to the Receive Maximum advertised in CONNACK) and their
 * PUBACKs leave in the order the PUBLISHes came, as the specification requires. QoS 2 is done
 * properly: PUBREC once Kafka has acknowledged, a repeated PUBLISH of a packet id not yet released
 * is not appended again, PUBCOMP on PUBREL.
 *
 * <p>Refusals: a client that can read a reason code (MQTT 5, QoS 1 or 2) gets one — 0x99 payload
 * format invalid, 0x90 topic name invalid, 0x87 not authorized, 0x97 quota exceeded, 0x80 when
 * Kafka failed. Otherwise (MQTT 3.1.1, or QoS 0) the message goes to {@code events.dlq} with the
 * reason in a header and is then acknowledged, so a device is not stuck resending poison.
 *
 * <p>Back-pressure: events wait for room in the gateway's in-flight bound; a PUBACK held back
 * stops a compliant client at its Receive Maximum, so the gateway stops taking data from it
 * instead of buffering without bound. A client that exceeds the Receive Maximum is disconnected
 * (0x93 on MQTT 5).
 */
public final class IngestMqttServer {

    public static final String TOPIC_PREFIX = "strata/events/";

    private static final Logger LOG = LoggerFactory.getLogger(IngestMqttServer.class);

    /** Settings of the MQTT side. */
    /**
     * @param maxConnectionsPerToken connections one token may hold at once, so that no token takes
     *     all of {@code maxConnections}
     */
    public record Settings(int receiveMaximum, int maxConnections, int maxPayloadBytes, int maxConnectionsPerToken) {}

    private final Optional<TokenStore> tokens;
    // The server's parts its sessions (MqttSession) use.
    final EventParser parser;
    final EventAppender appender;
    final InFlightLimiter limiter;
    final GatewayMetrics metrics;
    final Settings settings;
    private final Set<MqttSession> sessions = Collections.newSetFromMap(new ConcurrentHashMap<>());
    /** The live session of each (token, client id): a new connection with the same takes it over. */
    private final ConcurrentHashMap<String, MqttSession> byClientId = new ConcurrentHashMap<>();
    /** Connections per token. */
    private final ConcurrentHashMap<String, AtomicInteger> perToken = new ConcurrentHashMap<>();

    final TokenRateLimiter rateLimiter;

    public IngestMqttServer(
            Optional<TokenStore> tokens,
            EventParser parser,
            EventAppender appender,
            InFlightLimiter limiter,
            GatewayMetrics metrics,
            TokenRateLimiter rateLimiter,
            Settings settings) {
        this.rateLimiter = rateLimiter;
        this.tokens = tokens;
        this.parser = parser;
        this.appender = appender;
        this.limiter = limiter;
        this.metrics = metrics;
        this.settings = settings;
    }

    public Future<MqttServer> listen(Vertx vertx, MqttServerOptions options) {
        // The transport takes packets up to twice the payload limit, so an oversized payload gets a
        // reason code (or a dead letter) instead of a dropped connection.
        options.setMaxMessageSize(2 * settings.maxPayloadBytes() + 1024);
        return MqttServer.create(vertx, options).endpointHandler(this::connect).listen();
    }

    /** Disconnects every client (MQTT 5: 0x8B server shutting down). */
    public void disconnectAll() {
        for (MqttSession s : sessions) {
            s.shutdown();
        }
    }

    private void connect(MqttEndpoint endpoint) {
        boolean v5 = endpoint.protocolVersion() == 5;
        if (sessions.size() >= settings.maxConnections()) {
            endpoint.reject(
                    v5
                            ? MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_BUSY
                            : MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE);
            return;
        }
        Principal principal = Principal.ANONYMOUS;
        if (tokens.isPresent()) {
            MqttAuth auth = endpoint.auth();
            Optional<Principal> found =
                    auth == null ? Optional.empty() : tokens.get().authenticate(auth.getPassword());
            if (found.isEmpty()) {
                metrics.request("mqtt", v5 ? 0x86 : 0x04);
                endpoint.reject(
                        v5
                                ? MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USERNAME_OR_PASSWORD
                                : MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD);
                return;
            }
            principal = found.get();
        }
        AtomicInteger held = perToken.computeIfAbsent(principal.name(), name -> new AtomicInteger());
        if (held.incrementAndGet() > settings.maxConnectionsPerToken()) {
            held.decrementAndGet();
            metrics.request("mqtt", v5 ? 0x97 : 0x03);
            LOG.warn(
                    "MQTT connection of token '{}' refused: it holds {} connections, the most one token may",
                    principal.name(),
                    settings.maxConnectionsPerToken());
            endpoint.reject(
                    v5
                            ? MqttConnectReturnCode.CONNECTION_REFUSED_QUOTA_EXCEEDED
                            : MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE);
            return;
        }
        MqttSession session = new MqttSession(this, endpoint, principal, v5, Vertx.currentContext());
        sessions.add(session);
        metrics.mqttConnections().incrementAndGet();
        // Client ids are the token's own: another token's client with the same id is another client.
        String clientKey = endpoint.clientIdentifier() == null
                        || endpoint.clientIdentifier().isEmpty()
                ? null
                : principal.name() + "\u0000" + endpoint.clientIdentifier();
        if (clientKey != null) {
            MqttSession previous = byClientId.put(clientKey, session);
            if (previous != null) {
                previous.context.runOnContext(v -> previous.disconnect(MqttDisconnectReasonCode.SESSION_TAKEN_OVER));
            }
        }
        endpoint.publishAutoAck(false);
        endpoint.publishHandler(session::publish);
        endpoint.publishReleaseHandler(session::release);
        endpoint.subscribeHandler(sub -> endpoint.subscribeAcknowledge(
                sub.messageId(),
                sub.topicSubscriptions().stream()
                        .map(t -> v5 ? MqttSubAckReasonCode.NOT_AUTHORIZED : MqttSubAckReasonCode.UNSPECIFIED_ERROR)
                        .collect(Collectors.toList()),
                reasonString(v5, "this server takes events; it has nothing to subscribe to")));
        endpoint.exceptionHandler(e -> LOG.debug("MQTT client {}: {}", endpoint.clientIdentifier(), e.toString()));
        endpoint.closeHandler(v -> {
            if (sessions.remove(session)) {
                metrics.mqttConnections().decrementAndGet();
                held.decrementAndGet();
            }
            if (clientKey != null) {
                byClientId.remove(clientKey, session);
            }
            session.closed = true;
        });
        MqttProperties props = new MqttProperties();
        if (v5) {
            props.add(new IntegerProperty(MqttPropertyType.RECEIVE_MAXIMUM.value(), settings.receiveMaximum()));
            props.add(new IntegerProperty(
                    MqttPropertyType.MAXIMUM_PACKET_SIZE.value(), 2 * settings.maxPayloadBytes() + 1024));
            props.add(new IntegerProperty(MqttPropertyType.TOPIC_ALIAS_MAXIMUM.value(), 0));
            props.add(new IntegerProperty(MqttPropertyType.RETAIN_AVAILABLE.value(), 0));
            props.add(new IntegerProperty(MqttPropertyType.WILDCARD_SUBSCRIPTION_AVAILABLE.value(), 0));
            props.add(new IntegerProperty(MqttPropertyType.SUBSCRIPTION_IDENTIFIER_AVAILABLE.value(), 0));
            props.add(new IntegerProperty(MqttPropertyType.SHARED_SUBSCRIPTION_AVAILABLE.value(), 0));
        }
        endpoint.accept(false, props);
    }

    static MqttProperties reasonString(boolean v5, String reason) {
        if (!v5) {
            return MqttProperties.NO_PROPERTIES;
        }
        MqttProperties props = new MqttProperties();
        String text = reason.length() <= 500 ? reason : reason.substring(0, 500) + "…";
        props.add(new StringProperty(MqttPropertyType.REASON_STRING.value(), text));
        return props;
    }
}
