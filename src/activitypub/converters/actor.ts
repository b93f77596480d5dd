/**
 * Actor JSON-LD lives with the federation feature (features/federation/outbound-actor.ts) because delivery
 * embeds it too (Update(Person)); the edge renders it from there.
 */
export { ACTOR_CONTEXT, renderCollection, renderInstanceActor, renderPerson } from "../../features/federation/outbound-actor";
