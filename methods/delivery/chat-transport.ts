// Slack and Mattermost incoming webhooks: a JSON POST of {text} (Mattermost also takes the name,
// channel and icon to post as). Neither signs; the URL itself is the secret.
import { formatAlertMessage, slackEscape, type AlertMessage } from './alert-format.js';
import type { MattermostAttributes, SlackAttributes } from './alert-attributes.js';
import type { HttpSender } from './http.js';
import { httpVerdict } from './retry-policy.js';
import type { DeliveryTransport } from './queue.js';

function chatText(message: AlertMessage): string {
  const { subject, text } = formatAlertMessage(message);
  return `*${subject}*\n${text}`;
}

export function slackPayload(message: AlertMessage): { text: string } {
  return { text: slackEscape(chatText(message)) };
}

export function mattermostPayload(message: AlertMessage, attrs: MattermostAttributes): Record<string, string> {
  return {
    text: chatText(message),
    username: attrs.username,
    ...(attrs.channel !== '' ? { channel: attrs.channel } : {}),
    ...(attrs.icon_url !== '' ? { icon_url: attrs.icon_url } : {}),
  };
}

export function chatTransport(attrs: SlackAttributes | MattermostAttributes, http: HttpSender): DeliveryTransport {
  return {
    async send(item, { signal, now }) {
      const message = item.payload as AlertMessage;
      const body = attrs.type === 'Slack' ? slackPayload(message) : mattermostPayload(message, attrs);
      const outcome = await http.send({ url: attrs.url, urlField: 'attributes.url', body: JSON.stringify(body), signal });
      return httpVerdict(outcome, now);
    },
  };
}
