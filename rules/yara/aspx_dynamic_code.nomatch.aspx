<%@ Page Language="C#" %>
<script runat="server">
void Page_Load(object sender, EventArgs e) {
    // Loads a plugin shipped with the site, by a fixed name.
    var plugin = System.Reflection.Assembly.Load("Contoso.Reports");
    Label1.Text = plugin.GetName().Version.ToString();
}
</script>
