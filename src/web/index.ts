/** The server-rendered HTML pages: the front page, sign in/out, sign up, email confirmation, password reset, OAuth consent. */
import type { AppContext } from "../infra/context";
import { adminPages } from "./admin";
import { authorizePages } from "./authorize";
import { confirmationPages } from "./confirmation";
import { homePage } from "./home";
import { passwordPages } from "./password";
import { signInPages } from "./sign-in";
import { signUpPages } from "./sign-up";

export function webPages(context: AppContext) {
  return [homePage(context), signInPages(context), signUpPages(context), confirmationPages(context), passwordPages(context), authorizePages(context), ...adminPages(context)];
}
