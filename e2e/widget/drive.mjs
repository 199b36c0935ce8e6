// Drives Flowise's chat widget (flowise-embed) in headless Chromium the way a visitor uses it,
// and prints what the visitor saw as one JSON object on stdout. It judges nothing: the Go test
// (e2e/widget_browser_test.go) serves the pages, starts Flowgate, runs this script and asserts on the
// report, so every expectation lives in one place.
//
// Environment:
//   WIDGET_API_HOST       Flowgate's origin, e.g. http://127.0.0.1:41234 (its requests are logged)
//   WIDGET_PAGE           page embedding the widget for a chatflow that takes the page's origin
//   WIDGET_QUESTIONS      JSON array of questions to ask there, in one chat
//   WIDGET_FEEDBACK       what the visitor writes after the thumbs up ("Spot on." by default)
//   WIDGET_REFUSED_PAGE   optional: page embedding a chatflow that refuses the page's origin
//   WIDGET_ARTIFACTS      directory for the screenshots (created if missing)
//   CHROMIUM_PATH         the browser, /usr/bin/chromium (Debian's package) by default
//   WIDGET_STEP_MS        deadline of each wait, 30000 by default
//   WIDGET_TOTAL_MS       deadline of the whole run, 240000 by default
//
// Exit status: 0 when every step ran (the report may still show a wrong answer), 1 when a step
// failed (the report says which, in "error"), 2 when the inputs are wrong.

import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { chromium } from 'playwright-core'

const env = process.env
const stepMs = Number(env.WIDGET_STEP_MS || 30000)
const totalMs = Number(env.WIDGET_TOTAL_MS || 240000)

const report = {
  ok: false,
  error: '',
  step: '',
  allowed: null,
  refused: null,
  network: [], // every request to Flowgate: which page, method, path, status, content type, failure
  console: [], // the pages' console errors and warnings and uncaught exceptions
}

let browser

function inputs() {
  const need = (name) => {
    if (!env[name]) usage(`${name} is not set`)
    return env[name]
  }
  let questions
  try {
    questions = JSON.parse(need('WIDGET_QUESTIONS'))
  } catch (err) {
    usage(`WIDGET_QUESTIONS is not JSON: ${err.message}`)
  }
  if (!Array.isArray(questions) || questions.length === 0) usage('WIDGET_QUESTIONS must list at least one question')
  return {
    apiHost: need('WIDGET_API_HOST').replace(/\/+$/, ''),
    page: need('WIDGET_PAGE'),
    refusedPage: env.WIDGET_REFUSED_PAGE || '',
    questions,
    feedback: env.WIDGET_FEEDBACK || 'Spot on.',
    artifacts: env.WIDGET_ARTIFACTS || path.join(path.dirname(new URL(import.meta.url).pathname), 'artifacts'),
    chromium: env.CHROMIUM_PATH || '/usr/bin/chromium',
  }
}

function usage(msg) {
  process.stderr.write(`drive.mjs: ${msg}\n`)
  process.exit(2)
}

// finish prints the report once and exits; the browser is closed first so no Chromium outlives
// the run, but closing gets a deadline of its own since a wedged browser must not hold the exit.
let finished = false
async function finish(code) {
  if (finished) return
  finished = true
  if (browser) {
    await Promise.race([browser.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5000))])
  }
  process.stdout.write(JSON.stringify(report, null, 2) + '\n')
  process.exit(code)
}

// A run that outlives its deadline still reports how far it got, rather than being killed
// silently by the test's own deadline.
setTimeout(() => {
  report.error = `the run took longer than ${totalMs} ms (during: ${report.step})`
  finish(1)
}, totalMs).unref()

function step(name) {
  report.step = name
}

// watchNetwork logs the requests a page makes to Flowgate. Preflights do not appear (Chromium
// makes them out of the page's sight); a request CORS refuses shows as a failure.
function watchNetwork(page, label, apiHost) {
  const entries = new Map()
  page.on('request', (req) => {
    if (!req.url().startsWith(apiHost + '/')) return
    const u = new URL(req.url())
    const entry = { page: label, method: req.method(), path: u.pathname, status: 0, contentType: '', body: '', failure: '', done: false }
    entries.set(req, { entry, finished: false, reading: null })
    report.network.push(entry)
  })
  // An entry is done once the request has finished and, for an answer whose body is kept,
  // that body has been read: whoever waits for a call can then read all of it.
  const settle = (state) => {
    if (state.finished && !state.reading) state.entry.done = true
  }
  page.on('response', (res) => {
    const state = entries.get(res.request())
    if (!state) return
    const { entry } = state
    entry.status = res.status()
    entry.contentType = res.headers()['content-type'] || ''
    // Small JSON or text answers are kept for the report (refusals, feedback); streams are
    // left alone, since reading one would wait for its end.
    if (entry.contentType.startsWith('text/event-stream')) return
    state.reading = res
      .text()
      .catch((err) => `(unreadable: ${err.message})`)
      .then((text) => {
        entry.body = text.slice(0, 2000)
        state.reading = null
        settle(state)
      })
  })
  page.on('requestfinished', (req) => {
    const state = entries.get(req)
    if (!state) return
    state.finished = true
    settle(state)
  })
  page.on('requestfailed', (req) => {
    const state = entries.get(req)
    if (!state) return
    state.entry.failure = req.failure()?.errorText || 'failed'
    state.finished = true
    settle(state)
  })
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') report.console.push(`${label}: ${msg.type()}: ${msg.text()}`)
  })
  page.on('pageerror', (err) => report.console.push(`${label}: uncaught: ${err.message}`))
}

// until polls cond (run here, in node) every 100 ms until it returns something truthy, and
// fails with what after ms.
async function until(what, ms, cond) {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await cond()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

// settled counts the page's finished requests to Flowgate of one method whose path contains
// part.
function settled(label, method, part) {
  return report.network.filter((e) => e.page === label && e.method === method && e.path.includes(part) && e.done).length
}

// readChat returns what the open widget shows, read from inside its shadow root: the chat's
// messages in order (a bot message still loading has empty text), the starter prompts and
// whether the three-dot loading indicator is up. Starter prompts are host bubbles too; they
// are told apart by the modal attributes only they carry.
function readChat(page) {
  return page.evaluate(() => {
    const root = document.querySelector('flowise-chatbot')?.shadowRoot
    const view = root?.querySelector('.chatbot-chat-view')
    if (!view) return null
    const messages = []
    for (const el of view.querySelectorAll('.host-container, .guest-container')) {
      if (el.hasAttribute('data-modal-target')) continue
      if (el.classList.contains('guest-container')) {
        messages.push({ role: 'user', text: el.innerText.trim() })
      } else {
        const bubble = el.querySelector('.chatbot-host-bubble')
        messages.push({ role: 'bot', text: bubble ? bubble.innerText.trim() : '' })
      }
    }
    const prompts = [...root.querySelectorAll('[data-modal-target] .chatbot-host-bubble')].map((el) => el.innerText.trim())
    return { messages, prompts, loading: !!view.querySelector('.bubble1') }
  })
}

const bots = (chat) => chat.messages.filter((m) => m.role === 'bot')
const users = (chat) => chat.messages.filter((m) => m.role === 'user')

// openWidget loads a page, opens the bubble and waits until the widget has heard back (or
// failed to) about the chatflow: whether it streams and its public chatbotConfig. Asking
// before then would not stream, as the widget only streams once it knows the flow can.
async function openWidget(context, label, url, apiHost) {
  const page = await context.newPage()
  watchNetwork(page, label, apiHost)
  step(`${label}: load ${url}`)
  await page.goto(url, { waitUntil: 'load', timeout: stepMs })
  await page.waitForFunction(() => window.widgetStarted === true, null, { timeout: stepMs })
  step(`${label}: open the bubble`)
  await page.locator('flowise-chatbot button[part="button"]').click({ timeout: stepMs })
  await page.locator('flowise-chatbot textarea').waitFor({ state: 'visible', timeout: stepMs })
  step(`${label}: wait for the widget's chatflows-streaming and public-chatbotConfig calls`)
  // The page's own public-chatbotConfig call (for the welcome message) is one of the two.
  await until('the widget to hear about its chatflow', stepMs, () =>
    settled(label, 'GET', '/api/v1/chatflows-streaming/') >= 1 && settled(label, 'GET', '/api/v1/public-chatbotConfig/') >= 2)
  // Starter prompts render when the config arrives; give them a moment, but a chatflow may
  // have none, so their absence is reported rather than waited out.
  await until('starter prompts', 2000, async () => (await readChat(page))?.prompts.length > 0).catch(() => {})
  const chat = await readChat(page)
  return {
    page,
    seen: {
      chatbotConfigOutcome: await page.evaluate(() => window.chatbotConfigOutcome ?? ''),
      welcome: chat && bots(chat)[0] ? bots(chat)[0].text : '',
      starterPrompts: chat ? chat.prompts : [],
    },
  }
}

// ask types a question, sends it with Enter as a visitor would, and waits for the widget's
// prediction call to end and its reply to be on screen (the loading dots gone, a bot message
// after the question). It returns that reply and the chat as it then stands.
async function ask(page, label, question, turn) {
  step(`${label}: ask ${JSON.stringify(question)}`)
  const before = settled(label, 'POST', '/api/v1/prediction/')
  const input = page.locator('flowise-chatbot textarea')
  await input.fill(question, { timeout: stepMs })
  await input.press('Enter', { timeout: stepMs })
  await until(`the prediction call of turn ${turn}`, stepMs, () => settled(label, 'POST', '/api/v1/prediction/') > before)
  const chat = await until(`the reply to turn ${turn} on screen`, stepMs, async () => {
    const c = await readChat(page)
    if (!c || c.loading || users(c).length < turn) return null
    const last = c.messages[c.messages.length - 1]
    return last.role === 'bot' && last.text !== '' && bots(c).length > turn ? c : null
  })
  return { question, reply: chat.messages[chat.messages.length - 1].text, chat }
}

async function main() {
  const cfg = inputs()
  mkdirSync(cfg.artifacts, { recursive: true })
  step('launch Chromium')
  browser = await chromium.launch({ executablePath: cfg.chromium, headless: true, timeout: stepMs })

  // Each page gets a context of its own: the widget keeps chats in localStorage per chatflow,
  // and the refused page must not see the first page's.
  const allowedContext = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const { page, seen } = await openWidget(allowedContext, 'allowed', cfg.page, cfg.apiHost)
  report.allowed = { ...seen, turns: [], messages: [], feedback: null, feedbackUpdate: null, screenshot: '' }

  for (const [i, q] of cfg.questions.entries()) {
    const { question, reply, chat } = await ask(page, 'allowed', q, i + 1)
    report.allowed.turns.push({ question, reply })
    report.allowed.messages = chat.messages
  }

  // Thumbs up on the last reply: the widget shows the buttons under every reply (not the
  // welcome) once the chatflow's chatbotConfig turns feedback on, so the last pair in the
  // chat is the last reply's. The Go test checks which message the stored rating names.
  step('allowed: thumbs up on the last reply')
  const thumbsUp = page.locator('flowise-chatbot .chatbot-chat-view button[title="Thumbs Up"]').last()
  await thumbsUp.waitFor({ state: 'visible', timeout: stepMs })
  const feedbackBefore = settled('allowed', 'POST', '/api/v1/feedback/')
  await thumbsUp.click({ timeout: stepMs })
  await until('the feedback call', stepMs, () => settled('allowed', 'POST', '/api/v1/feedback/') > feedbackBefore)
  const call = report.network.filter((e) => e.page === 'allowed' && e.method === 'POST' && e.path.includes('/api/v1/feedback/')).pop()
  report.allowed.feedback = { status: call.status, body: call.body, failure: call.failure }

  // A rating opens the widget's "additional feedback" dialog; the visitor says why, which the
  // widget sends as an update of the feedback just made. Submitting also closes the dialog,
  // so the screenshot shows the chat.
  step('allowed: say why in the feedback dialog')
  const why = page.locator('textarea.feedback-input')
  await why.fill(cfg.feedback, { timeout: stepMs })
  const updatesBefore = settled('allowed', 'PUT', '/api/v1/feedback/')
  await page.locator('button', { hasText: 'Submit Feedback' }).click({ timeout: stepMs })
  await until('the feedback update call', stepMs, () => settled('allowed', 'PUT', '/api/v1/feedback/') > updatesBefore)
  const update = report.network.filter((e) => e.page === 'allowed' && e.method === 'PUT' && e.path.includes('/api/v1/feedback/')).pop()
  report.allowed.feedbackUpdate = { status: update.status, body: update.body, failure: update.failure }
  await why.waitFor({ state: 'hidden', timeout: stepMs })

  step('allowed: screenshot')
  report.allowed.screenshot = path.resolve(cfg.artifacts, 'widget.png')
  await page.screenshot({ path: report.allowed.screenshot, timeout: stepMs })

  if (cfg.refusedPage) {
    const refusedContext = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const refused = await openWidget(refusedContext, 'refused', cfg.refusedPage, cfg.apiHost)
    report.refused = { ...refused.seen, turns: [], messages: [], screenshot: '' }
    const { question, reply, chat } = await ask(refused.page, 'refused', cfg.questions[0], 1)
    report.refused.turns.push({ question, reply })
    report.refused.messages = chat.messages
    step('refused: screenshot')
    report.refused.screenshot = path.resolve(cfg.artifacts, 'widget-refused.png')
    await refused.page.screenshot({ path: report.refused.screenshot, timeout: stepMs })
  }
  report.ok = true
  step('')
}

main().then(
  () => finish(0),
  async (err) => {
    report.error = `${report.step}: ${err.message.split('\n')[0]}`
    // A picture of the failure is worth more than the log; take one if the page still answers.
    if (browser) {
      const pages = browser.contexts().flatMap((c) => c.pages())
      const last = pages[pages.length - 1]
      if (last) {
        const cfgDir = env.WIDGET_ARTIFACTS || path.join(path.dirname(new URL(import.meta.url).pathname), 'artifacts')
        report.failureScreenshot = path.resolve(cfgDir, 'widget-failure.png')
        await last.screenshot({ path: report.failureScreenshot, timeout: 5000 }).catch(() => { report.failureScreenshot = '' })
        // The widget's markup as it stood, for when a new flowise-embed moves its elements.
        const markup = await last
          .evaluate(() => document.querySelector('flowise-chatbot')?.shadowRoot?.innerHTML ?? '')
          .catch(() => '')
        if (markup) {
          report.failureMarkup = path.resolve(cfgDir, 'widget-failure.html')
          writeFileSync(report.failureMarkup, markup)
        }
      }
    }
    finish(1)
  },
)
