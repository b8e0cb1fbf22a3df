import { html } from "lit-html";
import { app, screenLinks, whoIsSignedIn, type Page } from "../app";

export function homePage(): Page {
  return {
    title: () => "Home",
    view: () => {
      const me = app.me!;
      const links = screenLinks(me);
      return html`<h1 tabindex="-1">joinedup</h1>
        <p class="nhsuk-lede-text">You are signed in as ${whoIsSignedIn(me)}.</p>
        ${links.length ? html`<ul class="nhsuk-grid-row nhsuk-card-group">
          ${links.map((l) => html`<li class="nhsuk-grid-column-one-half nhsuk-card-group__item">
            <div class="nhsuk-card nhsuk-card--clickable">
              <div class="nhsuk-card__content">
                <h2 class="nhsuk-card__heading nhsuk-heading-m"><a class="nhsuk-card__link" href=${l.href}>${l.text}</a></h2>
                <p class="nhsuk-card__description">${l.description}</p>
              </div>
            </div>
          </li>`)}
        </ul>` : html`<p class="nhsuk-body">Your role has no screens in joinedup's web application.</p>`}`;
    },
  };
}

export function notFoundPage(): Page {
  return {
    title: () => "Page not found",
    view: () => html`<div class="nhsuk-grid-row"><div class="nhsuk-grid-column-two-thirds">
      <h1 tabindex="-1">Page not found</h1>
      <p class="nhsuk-body">If you typed the web address, check it was correct.</p>
      <p class="nhsuk-body">If you pasted the web address, check you copied the entire address.</p>
      <p class="nhsuk-body">Some pages are only for some roles. <a href="/">Go to the home page</a> to see what you can use.</p>
    </div></div>`,
  };
}
