/**
 * `woolly admin vapid generate`: a new Web Push (VAPID, P-256) key pair, printed as the two lines to put in
 * the environment (Mastodon's `rake mastodon:webpush:generate_vapid_key`). Needs no configuration. Changing
 * the pair of a running instance breaks every existing push subscription: clients must subscribe again.
 */
import webpush from "web-push";
import type { Group } from "../command";

export const vapidGroup: Group = {
  name: "vapid",
  summary: "Web Push signing keys",
  commands: [
    {
      name: "generate",
      summary: "Print a new VAPID key pair as VAPID_PRIVATE_KEY=… and VAPID_PUBLIC_KEY=… lines",
      async run() {
        const keys = webpush.generateVAPIDKeys();
        console.log(`VAPID_PRIVATE_KEY=${keys.privateKey}`);
        console.log(`VAPID_PUBLIC_KEY=${keys.publicKey}`);
        return 0;
      },
    },
  ],
};
