package dev.strata.gateway.mqtt;

import dev.strata.gateway.auth.Principal;
import dev.strata.gateway.auth.TokenRateLimiter;
import dev.strata.gateway.auth.TokenStore;
import dev.strata.gateway.kafka.EventAppender;
import dev.strata.gateway.kafka.InFlightLimiter;
import dev.strata.gateway.metrics.GatewayMetrics;
import dev.strata.gateway.validation.EventParser;
import dev.strata.gateway.validation.EventParser.Parsed;
import dev.strata.gateway.validation.MalformedBodyException;
import dev.strata.schemas.Event;
import dev.strata.schemas.http.ValidationError;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttProperties.IntegerProperty;
import io.netty.handler.codec.mqtt.MqttProperties.MqttPropertyType;
import io.netty.handler.codec.mqtt.MqttProperties.StringProperty;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.mqtt.MqttAuth;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.mqtt.MqttServer;
import io.vertx.mqtt.MqttServerOptions;
import io.vertx.mqtt.messages.MqttPublishMessage;
import io.vertx.mqtt.messages.codes.MqttDisconnectReasonCode;
import io.vertx.mqtt.messages.codes.MqttPubAckReasonCode;
import io.vertx.mqtt.messages.codes.MqttPubRecReasonCode;
import io.vertx.mqtt.messages.codes.MqttSubAckReasonCode;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
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
    private final EventParser parser;
    private final EventAppender appender;
    private final InFlightLimiter limiter;
    private final GatewayMetrics metrics;
    private final Settings settings;
    private final Set<Session> sessions = Collections.newSetFromMap(new ConcurrentHashMap<>());
    /** The live session of each (token, client id): a new connection with the same takes it over. */
    private final ConcurrentHashMap<String, Session> byClientId = new ConcurrentHashMap<>();
    /** Connections per token. */
    private final ConcurrentHashMap<String, AtomicInteger> perToken = new ConcurrentHashMap<>();

    private final TokenRateLimiter rateLimiter;

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
        for (Session s : sessions) {
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
        Session session = new Session(endpoint, principal, v5, Vertx.currentContext());
        sessions.add(session);
        metrics.mqttConnections().incrementAndGet();
        // Client ids are the token's own: another token's client with the same id is another client.
        String clientKey = endpoint.clientIdentifier() == null
                        || endpoint.clientIdentifier().isEmpty()
                ? null
                : principal.name() + "\u0000" + endpoint.clientIdentifier();
        if (clientKey != null) {
            Session previous = byClientId.put(clientKey, session);
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

    /** A QoS 1 or 2 publish waiting for its acknowledgement, kept in receipt order. */
    private static final class Pending {
        final int packetId;
        final int qos;
        boolean done;
        MqttPubAckReasonCode code;
        String reason;

        Pending(int packetId, int qos) {
            this.packetId = packetId;
            this.qos = qos;
        }
    }

    /** One connected client. Touched only on its endpoint's event loop. */
    private final class Session {
        final MqttEndpoint endpoint;
        final Principal principal;
        final boolean v5;
        final Context context;
        final Deque<Pending> order = new ArrayDeque<>();
        /** QoS 2 packet ids received and not yet released by PUBREL. */
        final Set<Integer> qos2Unreleased = new HashSet<>();
        /** QoS 1 and 2 publishes counted against the Receive Maximum. */
        int inFlight;

        boolean closed;

        Session(MqttEndpoint endpoint, Principal principal, boolean v5, Context context) {
            this.endpoint = endpoint;
            this.principal = principal;
            this.v5 = v5;
            this.context = context;
        }

        String origin(String topic) {
            return "mqtt" + (v5 ? "5" : "3.1.1") + " client=" + endpoint.clientIdentifier() + " topic=" + topic;
        }

        void publish(MqttPublishMessage message) {
            int qos = message.qosLevel().value();
            if (qos == 2 && qos2Unreleased.contains(message.messageId())) {
                // A resent QoS 2 publish: it is already appended (or being appended), never twice.
                Pending earlier = order.stream()
                        .filter(p -> p.packetId == message.messageId())
                        .findFirst()
                        .orElse(null);
                if (earlier == null) {
                    endpoint.publishReceived(message.messageId());
                }
                return;
            }
            Pending pending = null;
            if (qos >= 1) {
                if (++inFlight > settings.receiveMaximum()) {
                    LOG.warn(
                            "MQTT client {} exceeded the Receive Maximum of {}: disconnecting",
                            endpoint.clientIdentifier(),
                            settings.receiveMaximum());
                    metrics.records("mqtt", "rejected", "receive_maximum_exceeded", 1);
                    disconnect(MqttDisconnectReasonCode.RECEIVE_MAXIMUM_EXCEEDED);
                    return;
                }
                pending = new Pending(message.messageId(), qos);
                order.addLast(pending);
                if (qos == 2) {
                    qos2Unreleased.add(message.messageId());
                }
            }
            if (message.isRetain() && v5) {
                // The CONNACK said Retain Available 0: a retained publish is a protocol error (MQTT 5, 3.3.1.3).
                metrics.records("mqtt", "rejected", "retain_not_supported", 1);
                disconnect(MqttDisconnectReasonCode.RETAIN_NOT_SUPPORTED);
                return;
            }
            String topic = message.topicName();
            byte[] payload = message.payload().getBytes();
            if (topic == null
                    || !topic.startsWith(TOPIC_PREFIX)
                    || topic.length() == TOPIC_PREFIX.length()
                    || topic.indexOf('+') >= 0
                    || topic.indexOf('#') >= 0) {
                refuse(
                        pending,
                        MqttPubAckReasonCode.TOPIC_NAME_INVALID,
                        "topic_invalid",
                        "Topic '" + topic + "' is not strata/events/{source}",
                        null,
                        payload,
                        topic);
                return;
            }
            String topicSource = topic.substring(TOPIC_PREFIX.length());
            if (payload.length > settings.maxPayloadBytes()) {
                refuse(
                        pending,
                        MqttPubAckReasonCode.PAYLOAD_FORMAT_INVALID,
                        "too_large",
                        "Payload of " + payload.length + " bytes is larger than the limit of "
                                + settings.maxPayloadBytes() + " bytes",
                        topicSource,
                        payload,
                        topic);
                return;
            }
            Parsed parsed;
            try {
                parsed = parser.parseMqttPayload(payload, topicSource);
            } catch (MalformedBodyException e) {
                refuse(
                        pending,
                        MqttPubAckReasonCode.PAYLOAD_FORMAT_INVALID,
                        "malformed",
                        e.getMessage(),
                        topicSource,
                        payload,
                        topic);
                return;
            }
            if (!parsed.valid()) {
                String reasons =
                        parsed.errors().stream().map(ValidationError::describe).collect(Collectors.joining("; "));
                refuse(
                        pending,
                        MqttPubAckReasonCode.PAYLOAD_FORMAT_INVALID,
                        "invalid",
                        reasons,
                        topicSource,
                        payload,
                        topic);
                return;
            }
            Event event = parsed.events().get(0);
            if (!principal.mayPublishAs(event.getSource())) {
                refuse(
                        pending,
                        MqttPubAckReasonCode.NOT_AUTHORIZED,
                        "forbidden",
                        "Token '" + principal.name() + "' may not publish as source '" + event.getSource() + "'",
                        topicSource,
                        payload,
                        topic);
                return;
            }
            OptionalLong wait = rateLimiter.tryConsume(principal, 1);
            if (wait.isPresent()) {
                // Not a dead letter: the event is fine, the client resends it later.
                metrics.records("mqtt", "rejected", "rate_limited", 1);
                if (v5) {
                    complete(
                            pending,
                            MqttPubAckReasonCode.QUOTA_EXCEEDED,
                            "Token '" + principal.name() + "' is over its rate limit of "
                                    + rateLimiter.burst().orElse(0) + " records/s (--rate-limit): resend in "
                                    + wait.getAsLong() + " s");
                } else if (pending != null) {
                    // 3.1.1 has no reason code: never acknowledged, resent after reconnecting.
                    disconnect(MqttDisconnectReasonCode.QUOTA_EXCEEDED);
                }
                return;
            }
            long bytes = payload.length;
            Pending p = pending;
            boolean admitted = limiter.acquireOrWait(bytes, () -> context.runOnContext(v -> append(event, bytes, p)));
            if (!admitted) {
                metrics.records("mqtt", "rejected", "overloaded", 1);
                if (p != null && v5) {
                    complete(p, MqttPubAckReasonCode.QUOTA_EXCEEDED, "Gateway overloaded: retry later");
                } else {
                    // No reason code to give and no room to take it: let the client resend later.
                    disconnect(MqttDisconnectReasonCode.QUOTA_EXCEEDED);
                }
            }
        }

        private void append(Event event, long bytes, Pending pending) {
            long started = System.nanoTime();
            appender.append(event).whenComplete((metadata, error) -> {
                limiter.release(bytes);
                metrics.produceLatency().record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
                context.runOnContext(v -> {
                    if (error == null) {
                        metrics.records("mqtt", "accepted", "ok", 1);
                        complete(pending, MqttPubAckReasonCode.SUCCESS, null);
                    } else {
                        metrics.records("mqtt", "failed", "kafka", 1);
                        LOG.warn(
                                "Kafka did not acknowledge an event of MQTT client {}: {}",
                                endpoint.clientIdentifier(),
                                error.toString());
                        if (pending != null && v5) {
                            complete(
                                    pending,
                                    MqttPubAckReasonCode.UNSPECIFIED_ERROR,
                                    "Kafka did not acknowledge the event; resend it");
                        } else if (pending != null) {
                            // MQTT 3.1.1 has no failure PUBACK: no acknowledgement, and the client resends.
                            disconnect(MqttDisconnectReasonCode.UNSPECIFIED_ERROR);
                        }
                    }
                });
            });
        }

        /** Answers with a reason code where the client can read one; else dead-letters, then acks. */
        private void refuse(
                Pending pending,
                MqttPubAckReasonCode code,
                String reason,
                String detail,
                String key,
                byte[] payload,
                String topic) {
            if (pending != null && v5) {
                metrics.records("mqtt", "rejected", reason, 1);
                complete(pending, code, detail);
                return;
            }
            appender.deadLetter(key, payload, reason, detail, origin(topic))
                    .whenComplete((m, error) -> context.runOnContext(v -> {
                        if (error == null) {
                            metrics.records("mqtt", "dead_lettered", reason, 1);
                            complete(pending, MqttPubAckReasonCode.SUCCESS, null);
                        } else {
                            metrics.records("mqtt", "failed", "kafka", 1);
                            if (pending != null) {
                                disconnect(MqttDisconnectReasonCode.UNSPECIFIED_ERROR);
                            }
                        }
                    }));
        }

        private void complete(Pending pending, MqttPubAckReasonCode code, String reason) {
            if (pending == null) {
                return;
            }
            pending.done = true;
            pending.code = code;
            pending.reason = reason;
            while (!order.isEmpty() && order.peekFirst().done) {
                Pending head = order.pollFirst();
                if (closed || !endpoint.isConnected()) {
                    continue;
                }
                MqttProperties props =
                        head.reason == null ? MqttProperties.NO_PROPERTIES : reasonString(v5, head.reason);
                if (head.qos == 1) {
                    inFlight--;
                    if (v5) {
                        endpoint.publishAcknowledge(head.packetId, head.code, props);
                    } else {
                        endpoint.publishAcknowledge(head.packetId);
                    }
                } else if (head.code == MqttPubAckReasonCode.SUCCESS) {
                    endpoint.publishReceived(head.packetId);
                } else {
                    // A refused QoS 2 publish ends at its PUBREC (MQTT 5 §4.3.3).
                    inFlight--;
                    qos2Unreleased.remove(head.packetId);
                    endpoint.publishReceived(head.packetId, MqttPubRecReasonCode.valueOf(head.code.value()), props);
                }
            }
        }

        void release(int packetId) {
            if (qos2Unreleased.remove(packetId)) {
                inFlight--;
            }
            endpoint.publishComplete(packetId);
        }

        void disconnect(MqttDisconnectReasonCode code) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (v5 && endpoint.isConnected()) {
                    endpoint.disconnect(code, MqttProperties.NO_PROPERTIES); // sends DISCONNECT, then closes
                } else {
                    endpoint.close();
                }
            } catch (IllegalStateException | IllegalArgumentException alreadyClosed) {
                // the client left first
            }
        }

        void shutdown() {
            context.runOnContext(v -> disconnect(MqttDisconnectReasonCode.SERVER_SHUTTING_DOWN));
        }
    }
}
