package agentflow

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Expected values are turndown 7.2.0's output with escaping off (as Flowise configures it),
// run in Node.js on the marketplace templates' rich-text inputs and on hand-written HTML.
func TestVarsPlainText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"<p><span class=\"variable\" data-type=\"mention\" data-id=\"$flow.state.instruction\" data-label=\"$flow.state.instruction\">{{ $flow.state.instruction }}</span></p>", "{{ $flow.state.instruction }}"},
		{"<p><span class=\"variable\" data-type=\"mention\" data-id=\"$flow.state.next\" data-label=\"$flow.state.next\">{{ $flow.state.next }}</span> </p>", "{{ $flow.state.next }}"},
		{"<p><span class=\"variable\" data-type=\"mention\" data-id=\"$form.from\" data-label=\"$form.from\">{{ $form.from }}</span> </p>", "{{ $form.from }}"},
		{"<p><span class=\"variable\" data-type=\"mention\" data-id=\"output.instructions\" data-label=\"output.instructions\">{{ output.instructions }}</span> </p>", "{{ output.instructions }}"},
		{"<p><span class=\"variable\" data-type=\"mention\" data-id=\"output.next\" data-label=\"output.next\">{{ output.next }}</span> </p>", "{{ output.next }}"},
		{"<p><span class=\"variable\" data-type=\"mention\" data-id=\"question\" data-label=\"question\">{{ question }}</span> </p>", "{{ question }}"},
		{"<p>English:</p><p><span class=\"variable\" data-type=\"mention\" data-id=\"question\" data-label=\"question\">{{ question }}</span> </p><p>Japanese:</p><p></p>", "English:\n\n{{ question }}\n\nJapanese:"},
		{"<p>REVIEWER</p>", "REVIEWER"},
		{"<p>Reply only:</p><p>{{$iteration.item}}</p>", "Reply only:\n\n{{$iteration.item}}"},
		{"<p>SOFTWARE</p>", "SOFTWARE"},
		{"<p>You are helpful assistant.</p><p>Todays date time is <span class=\"variable\" data-type=\"mention\" data-id=\"current_date_time\" data-label=\"current_date_time\">{{ current_date_time }}</span></p>", "You are helpful assistant.\n\nTodays date time is {{ current_date_time }}"},
		{"<p>You are helpful assistant</p>", "You are helpful assistant"},
		{"<p>[{\"item\": \"abc\"}, {\"item\": \"def\"}]</p>", "[{\"item\": \"abc\"}, {\"item\": \"def\"}]"},
		{"<p>{{ llmAgentflow_0.output.body }}</p>", "{{ llmAgentflow_0.output.body }}"},
		{"<p>{{ llmAgentflow_0.output.subject }}</p>", "{{ llmAgentflow_0.output.subject }}"},
		{"<p>a</p><p>b</p>", "a\n\nb"},
		{"<p>  lots   of \n spaces  </p>", "lots of spaces"},
		{"<p>line<br>break</p>", "line  \nbreak"},
		{"<p><strong>bold</strong> and <em>it</em></p>", "**bold** and _it_"},
		{"<p><strong> bold </strong>x</p>", "**bold** x"},
		{"<p>a <strong> b </strong> c</p>", "a **b** c"},
		{"<h1>Title</h1><p>x</p>", "Title\n=====\n\nx"},
		{"<h2>Sub</h2>", "Sub\n---"},
		{"<h3>Three</h3>", "### Three"},
		{"<ul><li>one</li><li>two</li></ul>", "*   one\n*   two"},
		{"<ol><li>one</li><li>two</li></ol>", "1.  one\n2.  two"},
		{"<ol start=\"3\"><li>a</li><li>b</li></ol>", "3.  a\n4.  b"},
		{"<ul><li><p>para item</p></li><li><p>second</p><ul><li>nested</li></ul></li></ul>", "*   para item\n    \n*   second\n    \n    *   nested"},
		{"<blockquote><p>quote</p><p>two</p></blockquote>", "> quote\n> \n> two"},
		{"<pre><code>let x = 1;\n  y()\n</code></pre>", "    let x = 1;\n      y()"},
		{"<pre>plain pre\n  x</pre>", "plain pre\n  x"},
		{"<p>use <code>x`y</code> here</p>", "use ``x`y`` here"},
		{"<p><code>`tick</code></p>", "`` `tick ``"},
		{"<p><a href=\"http://x.y/(a)\" title=\"T &quot;q&quot;\">link</a></p>", "[link](http://x.y/\\(a\\) \"T \\\"q\\\"\")"},
		{"<p><a>nohref</a></p>", "nohref"},
		{"<p><img src=\"i.png\" alt=\"alt\"> after</p>", "![alt](i.png) after"},
		{"<hr><p>x</p>", "* * *\n\nx"},
		{"<p></p><p>after empty</p>", "after empty"},
		{"<p>&amp; &lt;tag&gt; &nbsp;nb</p>", "& <tag> \u00a0nb"},
		{"<div>div text</div><div>two</div>", "div text\n\ntwo"},
		{"<p>{{ question }}</p>", "{{ question }}"},
		{"<p><span class=\"variable\" data-type=\"mention\" data-id=\"llmAgentflow_0\" data-label=\"llmAgentflow_0\">{{ llmAgentflow_0 }}</span> </p>", "{{ llmAgentflow_0 }}"},
		{"<p>Hi <span>{{ $flow.state.a }}</span>, <span>{{ $vars.k }}</span></p><p></p><p>Bye</p>", "Hi {{ $flow.state.a }}, {{ $vars.k }}\n\nBye"},
		{"<table><tr><td>a</td><td>b</td></tr></table>", "a\n\nb"},
		{"<p>**already md** and # not heading</p>", "**already md** and # not heading"},
		{"<p># heading-like</p>", "# heading-like"},
		{"<p>a<br><br>b</p>", "a  \n  \nb"},
		{"<p>trailing<br></p>", "trailing"},
		{"<p><em>  </em>x</p>", "x"},
		{"<p>x<!-- comment -->y</p>", "xy"},
		{"  <p>leading ws</p>", "leading ws"},
		{"<P>UPPER</P>", "UPPER"},
		{"<p>tab\there</p>", "tab here"},
		{"<p>é ü 😀</p>", "é ü 😀"},
		{"<h1>😀 wide</h1>", "😀 wide\n======="},
		{"<p><s>strike</s> <u>under</u></p>", "strike under"},
		{"<p>a</p>\n\n<p>b</p>", "a\n\nb"},
		{"<ul>\n  <li>x</li>\n  <li>y</li>\n</ul>", "*   x\n*   y"},
		{"<p>text <b></b> more</p>", "text more"},
		{"<p><code>a\nb</code></p>", "`a b`"},
		{"<p><i>i</i><b>b</b></p>", "_i_**b**"},
		{"<blockquote>plain</blockquote>", "> plain"},
		{"<p>\u00a0lead nbsp</p>", "\u00a0lead nbsp"},
		{"<p>a <span> </span> b</p>", "a b"},
		{"<p>x <em>y</em> z</p>", "x _y_ z"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, PlainText(c.in), "PlainText(%q)", c.in)
	}
	require.Equal(t, "", PlainText(""))
}
