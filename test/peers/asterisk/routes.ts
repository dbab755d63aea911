/**
 * The ARI REST routes the peer serves (paths after `/ari`), mapped to their handlers.
 */
import type { Route } from './http-server';
import type { RestHandlers } from './rest-handlers';

const ID = '([^/]+)';

/** `eventFilters` false: an Asterisk older than 13.26 / 16.3, which has no eventFilter route (404 as any unknown path). */
export function ariRoutes(h: RestHandlers, eventFilters = true): Route[] {
  const filterRoute: Route[] = eventFilters ? [{ pattern: new RegExp(`^/applications/${ID}/eventFilter$`), methods: { PUT: h.setEventFilter } }] : [];
  return [
    { pattern: /^\/channels$/, methods: { GET: h.listChannels, POST: h.originate } },
    { pattern: new RegExp(`^/channels/${ID}$`), methods: { GET: h.getChannel, POST: h.originate, DELETE: h.hangup } },
    { pattern: new RegExp(`^/channels/${ID}/answer$`), methods: { POST: h.answer } },
    { pattern: new RegExp(`^/channels/${ID}/ring$`), methods: { POST: h.ring, DELETE: h.ringStop } },
    { pattern: new RegExp(`^/channels/${ID}/progress$`), methods: { POST: h.progress } },
    { pattern: new RegExp(`^/channels/${ID}/continue$`), methods: { POST: h.continueInDialplan } },
    { pattern: new RegExp(`^/channels/${ID}/play$`), methods: { POST: h.play } },
    { pattern: new RegExp(`^/channels/${ID}/play/${ID}$`), methods: { POST: h.play } },
    { pattern: new RegExp(`^/channels/${ID}/variable$`), methods: { GET: h.getVariable, POST: h.setVariable } },
    { pattern: /^\/bridges$/, methods: { GET: h.listBridges, POST: h.createBridge } },
    { pattern: new RegExp(`^/bridges/${ID}$`), methods: { GET: h.getBridge, POST: h.createBridge, DELETE: h.destroyBridge } },
    { pattern: new RegExp(`^/bridges/${ID}/addChannel$`), methods: { POST: h.addChannel } },
    { pattern: new RegExp(`^/bridges/${ID}/removeChannel$`), methods: { POST: h.removeChannel } },
    { pattern: new RegExp(`^/playbacks/${ID}$`), methods: { GET: h.getPlayback, DELETE: h.stopPlayback } },
    { pattern: /^\/asterisk\/info$/, methods: { GET: h.info } },
    { pattern: /^\/asterisk\/ping$/, methods: { GET: h.ping } },
    { pattern: /^\/applications$/, methods: { GET: h.listApplications } },
    { pattern: new RegExp(`^/applications/${ID}$`), methods: { GET: h.getApplication } },
    ...filterRoute,
  ];
}
