<%@ Page Language="C#" %>
<script runat="server">
void Page_Load(object sender, EventArgs e) {
    // Shows the query, encoded; no process is started.
    Label1.Text = Server.HtmlEncode(Request.QueryString["q"] ?? "");
}
</script>
<asp:Label id="Label1" runat="server" />
